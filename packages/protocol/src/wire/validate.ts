/**
 * Compiled validators of the wire schemas (Ajv 8 + ajv-formats), and a short human message for
 * their errors.
 *
 * Ajv runs with `strict: false, coerceTypes: false, removeAdditional: false, allErrors: false`:
 * input is never changed, and validation stops at the first problem (the message names it).
 */
import { Ajv } from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { EncryptedMessage } from './common.js';
import type { WireEndpoint } from './endpoints.js';
import type { MsgCallbackHeader, MsgHeader } from './header.js';
import { WIRE_SCHEMAS, WIRE_SCHEMA_NAMES } from './schemas.js';
import type { HeaderKind, WireSchemaName, WireType } from './schemas.js';

/** The Ajv options of every wire validator (architecture §3, stack.md §3.2). */
export const WIRE_AJV_OPTIONS = {
  strict: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  allErrors: false,
} as const satisfies Options;

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

/** A new Ajv instance with the wire options and the standard formats (`date-time`, `uri`, …). */
export function createWireAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ ...WIRE_AJV_OPTIONS, ...options });
  addFormats(ajv);
  return ajv;
}

/** A compiled validator narrowing to `T`; after a failure `errors` holds the first problem. */
export type Validator<T> = ((data: unknown) => data is T) & Pick<ValidateFunction, 'errors'>;

/** An inbound envelope after validation (its `message` checked against the endpoint's schema). */
export interface InboundEnvelope {
  signature?: string | null;
  header: MsgHeader | MsgCallbackHeader;
  /** The endpoint's message, or an `EncryptedMessage` when `header.is_msg_encrypted` is true. */
  message?: Record<string, unknown>;
}

/** An outbound envelope: the superset header and a message (sync responses, callbacks). */
export interface OutboundEnvelope {
  signature?: string;
  header: Record<string, unknown>;
  message: Record<string, unknown>;
}

export type EnvelopeCheck = { ok: true; envelope: InboundEnvelope; encrypted: boolean } | { ok: false; error: string };

export interface WireValidators {
  /** The validator of one named schema (a message body, a header, the ACK, …). */
  schema<N extends WireSchemaName>(name: N): Validator<WireType<N>>;
  /** The request body of an endpoint: envelope, header (with the exact `action`) and message. */
  request(endpoint: WireEndpoint): Validator<InboundEnvelope>;
  /** The answer of an endpoint: the ACK, or the response envelope with its `action`. */
  response(endpoint: WireEndpoint): Validator<OutboundEnvelope | WireType<'AckResponse'>>;
  /** The Ajv instance the validators live in (schemas added under `schemaId(name)`). */
  readonly ajv: Ajv;
}

/** The `$id` under which a wire schema is registered in the validators' Ajv. */
export function schemaId(name: WireSchemaName): string {
  return `https://schemas.opendci.org/wire/${name}`;
}

const ref = (name: WireSchemaName) => ({ $ref: schemaId(name) });

function headerSchema(kind: HeaderKind | 'CallbackHeaderOut', action: string | undefined): object {
  return action === undefined ? ref(kind) : { allOf: [ref(kind), { properties: { action: { const: action } } }] };
}

const ENCRYPTED_IF = {
  required: ['header'],
  properties: { header: { required: ['is_msg_encrypted'], properties: { is_msg_encrypted: { const: true } } } },
};

function requestEnvelopeSchema(endpoint: WireEndpoint): object {
  const required = endpoint.messageRequired === 'always' ? ['header', 'message'] : ['header'];
  const allOf: object[] = [
    {
      if: ENCRYPTED_IF,
      then: { properties: { message: ref('EncryptedMessage') } },
      else: { properties: { message: ref(endpoint.requestMessage) } },
    },
  ];
  if (endpoint.messageRequired === 'unless-rjct') {
    allOf.push({
      if: {
        required: ['header'],
        properties: { header: { required: ['status'], properties: { status: { const: 'rjct' } } } },
      },
      else: { required: ['message'] },
    });
  }
  return {
    type: 'object',
    required,
    properties: {
      signature: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      header: headerSchema(endpoint.requestHeader, endpoint.action),
      message: { type: 'object' },
    },
    allOf,
  };
}

function responseSchema(endpoint: WireEndpoint): object {
  if (endpoint.response.kind === 'ack') return ref('AckResponse');
  return {
    type: 'object',
    required: ['header', 'message'],
    properties: {
      signature: { type: 'string' },
      header: headerSchema('CallbackHeaderOut', endpoint.response.action),
      message: ref(endpoint.response.message),
    },
  };
}

function compile(): WireValidators {
  const ajv = createWireAjv();
  for (const name of WIRE_SCHEMA_NAMES) ajv.addSchema(WIRE_SCHEMAS[name], schemaId(name));
  const byName = new Map<WireSchemaName, ValidateFunction>();
  for (const name of WIRE_SCHEMA_NAMES) {
    const validate = ajv.getSchema(schemaId(name));
    if (!validate) throw new Error(`wire schema ${name} did not compile`);
    byName.set(name, validate);
  }
  const requests = new Map<string, ValidateFunction>();
  const responses = new Map<string, ValidateFunction>();
  const memo = (cache: Map<string, ValidateFunction>, key: string, schema: () => object) => {
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(schema());
      cache.set(key, validate);
    }
    return validate;
  };
  return {
    ajv,
    schema: <N extends WireSchemaName>(name: N) => byName.get(name) as unknown as Validator<WireType<N>>,
    request: (endpoint) =>
      memo(
        requests,
        [endpoint.requestHeader, endpoint.action, endpoint.requestMessage, endpoint.messageRequired].join(' '),
        () => requestEnvelopeSchema(endpoint),
      ) as unknown as Validator<InboundEnvelope>,
    response: (endpoint) =>
      memo(
        responses,
        endpoint.response.kind === 'ack' ? 'ack' : `${endpoint.response.action} ${endpoint.response.message}`,
        () => responseSchema(endpoint),
      ) as unknown as Validator<OutboundEnvelope | WireType<'AckResponse'>>,
  };
}

let compiled: WireValidators | undefined;

/**
 * The wire validators, compiled on first use and shared afterwards (every named schema is compiled
 * at once; endpoint envelopes on first use, reusing the compiled schemas by `$ref`).
 */
export function compileValidators(): WireValidators {
  compiled ??= compile();
  return compiled;
}

/** True when the header announces an encrypted message (`is_msg_encrypted: true`). */
export function isEncryptedEnvelope(
  envelope: InboundEnvelope,
): envelope is InboundEnvelope & { message: EncryptedMessage & Record<string, unknown> } {
  return envelope.header.is_msg_encrypted === true;
}

/**
 * Validates a request body for an endpoint. On failure `error` is a short message such as
 * `message.search_request[0].search_criteria.pagination.page_size must be >= 1` (answer it with
 * `err.request.bad`). An encrypted message is only checked for the `EncryptedMessage` shape:
 * decrypt it, then check the plaintext with `validateMessage(endpoint.requestMessage, …)`.
 */
export function validateRequest(endpoint: WireEndpoint, body: unknown): EnvelopeCheck {
  const validate = compileValidators().request(endpoint);
  if (validate(body)) return { ok: true, envelope: body, encrypted: isEncryptedEnvelope(body) };
  return { ok: false, error: describeErrors(validate.errors) };
}

/** Validates one message body against a named schema; `root` prefixes the error path. */
export function validateMessage<N extends WireSchemaName>(
  name: N,
  message: unknown,
  root = 'message',
): { ok: true; message: WireType<N> } | { ok: false; error: string } {
  const validate = compileValidators().schema(name);
  if (validate(message)) return { ok: true, message };
  return { ok: false, error: describeErrors(validate.errors, root) };
}

// ---------------------------------------------------------------------------------------------
// Error messages

/** `/message/search_request/0/timestamp` → `message.search_request[0].timestamp`. */
export function instancePathToDotted(instancePath: string, root = ''): string {
  let out = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

const FORMAT_NAMES: Readonly<Record<string, string>> = {
  'date-time': 'an ISO 8601 date-time with a time zone (e.g. 2025-01-01T10:00:00Z)',
  uri: 'an absolute URI',
};

function subject(path: string): string {
  return path || 'the body';
}

function describeOne(error: ErrorObject, root: string): string {
  const path = instancePathToDotted(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return `${path ? `${path}.` : ''}${missing} is required`;
    }
    case 'type':
      return `${subject(path)} must be ${String(params.type).replace(/,/g, ' or ')}`;
    case 'enum':
      return `${subject(path)} must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `${subject(path)} must be ${JSON.stringify(params.allowedValue)}`;
    case 'format':
      return `${subject(path)} must be ${FORMAT_NAMES[String(params.format)] ?? `a valid ${String(params.format)}`}`;
    case 'pattern':
      return path.endsWith('locale')
        ? `${path} must be a 3-letter lower-case ISO 639-3 code (e.g. eng)`
        : `${subject(path)} must match ${String(params.pattern)}`;
    default:
      return `${subject(path)} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * A short message for Ajv errors (the first real problem): the path in dotted form and what is
 * wrong, e.g. `message.search_request[0].search_criteria.pagination.page_size must be >= 1`.
 * `if`/`then` wrappers are skipped; for `anyOf`, alternative types at one path are merged
 * (`… must be string or number or boolean or object`).
 */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, root = ''): string {
  if (!errors || errors.length === 0) return 'invalid request';
  const real = errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const first = real[0] ?? errors[0]!;
  // anyOf over types: every branch failed on `type` at the same path → name all the types.
  const sameTypeErrors = real.filter((e) => e.keyword === 'type' && e.instancePath === first.instancePath);
  if (first.keyword === 'type' && sameTypeErrors.length > 1) {
    const types = [...new Set(sameTypeErrors.map((e) => String((e.params as { type: unknown }).type)))];
    return `${subject(instancePathToDotted(first.instancePath, root))} must be ${types.join(' or ').replace(/,/g, ' or ')}`;
  }
  return describeOne(first, root);
}
