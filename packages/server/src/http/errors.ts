/**
 * The one place errors become HTTP answers: every failure is rendered as the DCI error body
 * (contract §4, architecture §6) with the spec's code and the right status. Nothing a client
 * sends produces a stack trace or an internal message.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DciError, ErrorCode, errorBody, isDciError } from '@opendci/protocol';

/** Maps framework errors (parsing, limits) onto DCI errors. */
export function toDciError(error: unknown): DciError {
  if (isDciError(error)) return error;
  const e = error as FastifyError & { code?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DciError(ErrorCode.RequestBad, 'the request body is too large', { status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DciError(ErrorCode.RequestBad, 'the body must be JSON (Content-Type: application/json)', {
        status: 415,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DciError(ErrorCode.RequestBad, 'the request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new DciError(ErrorCode.RequestBad, 'the request body is not valid JSON');
    default:
      break;
  }
  if (error instanceof SyntaxError || e.statusCode === 400) {
    return new DciError(ErrorCode.RequestBad, 'the request body is not valid JSON');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new DciError(ErrorCode.RequestBad, 'the request was rejected', { status: e.statusCode });
  }
  const unavailable = isDatabaseDown(error);
  return new DciError(ErrorCode.ServiceUnavailable, 'the service is unavailable, try again later', {
    status: unavailable ? 503 : 500,
    cause: error,
  });
}

function isDatabaseDown(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === '57P01' || code === '57P03' || code === '08006' || code === '08001';
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: DciError): FastifyReply {
  const correlationId = request.dci?.correlationId ?? randomUUID();
  if (error.status === 429 && error.detail) void reply.header('Retry-After', error.detail);
  if (error.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
  return reply
    .code(error.status)
    .type('application/json')
    .send(
      errorBody({
        code: error.code,
        message: error.expose ? error.message : 'the service is unavailable',
        correlationId,
      }),
    );
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const dciError = toDciError(error);
    if (request.dci) {
      request.dci.status = 'err';
      request.dci.reasonCode = dciError.code;
    }
    if (dciError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: dciError.code, status: dciError.status, detail: dciError.detail }, dciError.message);
    return sendError(request, reply, dciError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new DciError(ErrorCode.RequestNotFound, `no such endpoint: ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
