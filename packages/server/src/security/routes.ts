/**
 * `POST /oauth2/client/token` (RFC 6749 client credentials, contract.md §6) and
 * `GET /.well-known/jwks.json` (RFC 7517). Register with `app.register(securityRoutes, {…})`: the
 * form parser is scoped to this plugin. Secrets never reach the logs: bodies are not logged and
 * the Authorization header is redacted by the app's logger.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, type TokenService } from './oauth.js';
import type { ServerKeys } from './server-keys.js';

export interface SecurityRoutesOptions {
  tokens: TokenService;
  serverKeys: ServerKeys;
}

const FORM_LIMIT = 16 * 1024;
const TOKEN_PARAMS = ['grant_type', 'client_id', 'client_secret', 'scope'];

/** An `application/x-www-form-urlencoded` body; a token parameter given twice is refused (RFC 6749 §3.2). */
export function parseForm(body: string): Record<string, string> {
  const params = new URLSearchParams(body);
  const out: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name) && TOKEN_PARAMS.includes(name)) {
      throw new OAuthError(400, 'invalid_request', `parameter ${name} is repeated`);
    }
    out[name] = value;
  }
  return out;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * The client credentials of an `Authorization: Basic` header (RFC 6749 §2.3.1: id and secret are
 * form-urlencoded before base64), undefined for another scheme or none.
 */
export function parseBasicAuth(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*basic\s+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header);
  if (!match) {
    if (/^\s*basic\b/i.test(header)) throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
    return undefined;
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
  }
}

function bodyParams(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new OAuthError(400, 'invalid_request', 'the body must be a form or a JSON object');
  }
  const out: Record<string, string | undefined> = {};
  for (const name of TOKEN_PARAMS) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new OAuthError(400, 'invalid_request', `${name} must be a string`);
    out[name] = value;
  }
  return out;
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

function sendOAuthError(reply: FastifyReply, error: OAuthError, basic: boolean): void {
  noStore(reply);
  if (error.status === 401 && basic) reply.header('www-authenticate', 'Basic realm="dci", charset="UTF-8"');
  void reply.code(error.status).send(error.body());
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export async function securityRoutes(app: FastifyInstance, options: SecurityRoutesOptions): Promise<void> {
  const { tokens, serverKeys } = options;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  app.post(
    '/oauth2/client/token',
    {
      bodyLimit: FORM_LIMIT,
      errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
        const basic = /^\s*basic\b/i.test(request.headers.authorization ?? '');
        if (error instanceof OAuthError) {
          sendOAuthError(reply, error, basic);
          return;
        }
        const status = statusOf(error);
        if (status !== undefined && status >= 400 && status < 500) {
          const description =
            status === 415
              ? 'the body must be application/x-www-form-urlencoded or application/json'
              : status === 413
                ? 'the request body is too large'
                : 'malformed request body';
          sendOAuthError(reply, new OAuthError(status === 413 ? 413 : 400, 'invalid_request', description), basic);
          return;
        }
        request.log.error({ err: error }, 'token request failed');
        sendOAuthError(reply, new OAuthError(500, 'server_error'), false);
      },
    },
    async (request, reply) => {
      const header = request.headers.authorization;
      const params = bodyParams(request.body);
      const grantType = params.grant_type;
      if (grantType === undefined || grantType === '') {
        throw new OAuthError(400, 'invalid_request', 'grant_type is required');
      }
      if (grantType !== 'client_credentials') {
        throw new OAuthError(400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
      }
      const credentials = parseBasicAuth(header);
      if (credentials && params.client_secret !== undefined) {
        throw new OAuthError(400, 'invalid_request', 'use one client authentication method, not Basic and the body');
      }
      if (credentials && params.client_id !== undefined && params.client_id !== credentials.clientId) {
        throw new OAuthError(400, 'invalid_request', 'client_id differs from the Basic credentials');
      }
      const result = await tokens.issue({
        grantType,
        clientId: credentials?.clientId ?? params.client_id ?? '',
        clientSecret: credentials?.clientSecret ?? params.client_secret ?? '',
        ...(params.scope === undefined ? {} : { scope: params.scope }),
      });
      return noStore(reply).send(result);
    },
  );

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    await serverKeys.maybeRefresh();
    return reply.header('cache-control', 'public, max-age=300').type('application/json').send(serverKeys.jwks());
  });
}
