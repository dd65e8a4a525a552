/**
 * The conformance harness: loads the published DCI OpenAPI documents from the shared directory
 * (`$DCI_SHARED_DIR`, default `<repository root>/../shared`, contract §2), dereferences them,
 * applies the overlays listed below, and compiles Ajv validators for request, callback and
 * response bodies. The spec files are reference data read in place, never copied into the project.
 *
 * When the shared directory is absent (a fresh clone) `specAvailable()` is false and the
 * conformance tests skip with `specUnavailableReason()`.
 *
 * Overlays (each fixes a defect of the documents themselves, not of the messages):
 * - `query-oneof-anyof`: `search_criteria.query`, `subscribe_criteria.filter` and
 *   `SubscriptionInfo.filter` are a `oneOf` of shapes that overlap (two unconstrained object
 *   variants), so every object query fails. Upstream issues #45/#47; [C] switched to `anyOf`, so
 *   this is a no-op on `latest/` and matters for `upstream-2024/`.
 * - `attribute-value-oneof-anyof`: `txnstatus_request.attribute_value` is a `oneOf` whose
 *   transaction_id and correlation_id branches are identical, so every string fails (#46; [C] uses
 *   `anyOf`). No-op on `latest/`.
 * - `fr-on-subscribe-post`: `latest/fr` `/registry/on-subscribe` has `post: null` and the operation's
 *   keys one level up (mis-indented YAML, brief §10.2 #2); they are moved under `post`.
 * - `type-enum`: `upstream-2024/registry_core` notify `data.response_entity` declares `type: enum`,
 *   which is not a JSON Schema type (Ajv refuses to compile it); replaced by `type: string`.
 *
 * Opt-in overlay (pass it in `options.overlays`):
 * - `txn-status-search-data`: in `latest/crvs` and `latest/fr`, the search variant of
 *   `TxnStatusResponse.txn_status` is a stale copy kept under an `example` keyword (brief §10.2
 *   #13) whose `data.reg_records` is an object, while the same documents' on-search (fixed by #50)
 *   types it as an array. The overlay replaces that copy's `data` with the document's own on-search
 *   `data` schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import $RefParser from '@apidevtools/json-schema-ref-parser';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { DciDomain } from '../wire/common.js';
import { createWireAjv } from '../wire/validate.js';

/** The repository root (four levels above this file: src/test-support → protocol → packages). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The shared directory: `$DCI_SHARED_DIR` (relative to the repository root), else `../shared`. */
export function sharedDir(): string {
  const configured = process.env.DCI_SHARED_DIR?.trim();
  if (configured) return isAbsolute(configured) ? configured : resolve(REPO_ROOT, configured);
  return resolve(REPO_ROOT, '../shared');
}

export function specDir(): string {
  return join(sharedDir(), 'spec');
}

/** True when `<shared>/spec/latest` exists. */
export function specAvailable(): boolean {
  return existsSync(join(specDir(), 'latest'));
}

/** Why the conformance tests are skipped (for `console.warn`). */
export function specUnavailableReason(): string {
  return (
    `DCI spec files not found at ${join(specDir(), 'latest')}: conformance tests skipped ` +
    `(set DCI_SHARED_DIR to the directory holding spec/).`
  );
}

export type SpecVersion = 'latest' | 'upstream-2024';

/**
 * The spec file of a domain, relative to `spec/`: `latest/social_api_v1.0.0.yaml`, …; in
 * `upstream-2024/` CRVS is `registry_core` and there is no FR file (undefined).
 */
export function specFile(domain: DciDomain, version: SpecVersion = 'latest'): string | undefined {
  if (version === 'latest') return `latest/${domain}_api_v1.0.0.yaml`;
  if (domain === 'fr') return undefined;
  return `upstream-2024/${domain === 'crvs' ? 'registry_core' : domain}_api_v1.0.0.yaml`;
}

// ---------------------------------------------------------------------------------------------
// Loading and overlays

type Json = Record<string, unknown>;
export type SpecDocument = Json & {
  paths: Record<string, Json | null>;
  components?: { schemas?: Record<string, Json> };
};

export interface SpecOverlay {
  readonly id: string;
  readonly reason: string;
  /** Applies the patch in place; returns how many places were changed. */
  apply(doc: SpecDocument, file: string): number;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Visits every object of a dereferenced document once (shared sub-objects included once). */
function walk(root: unknown, visit: (node: Json, key: string | undefined, parent: Json | undefined) => void): void {
  const seen = new WeakSet<object>();
  const go = (node: unknown, key: string | undefined, parent: Json | undefined) => {
    if (Array.isArray(node)) {
      node.forEach((child) => go(child, key, parent));
      return;
    }
    if (!isObject(node) || seen.has(node)) return;
    seen.add(node);
    visit(node, key, parent);
    for (const [k, v] of Object.entries(node)) go(v, k, node);
  };
  go(root, undefined, undefined);
}

/** Renames `oneOf` to `anyOf` on the schemas of the named properties. */
function oneOfToAnyOf(doc: SpecDocument, propertyNames: readonly string[]): number {
  let changed = 0;
  walk(doc, (node, key) => {
    if (key !== 'properties') return;
    for (const name of propertyNames) {
      const schema = node[name];
      if (isObject(schema) && Array.isArray(schema.oneOf)) {
        schema.anyOf = schema.oneOf;
        delete schema.oneOf;
        changed++;
      }
    }
  });
  return changed;
}

const OPERATION_KEYS = [
  'summary',
  'description',
  'operationId',
  'tags',
  'requestBody',
  'responses',
  'security',
  'deprecated',
];

export const SPEC_OVERLAYS: readonly SpecOverlay[] = [
  {
    id: 'query-oneof-anyof',
    reason: 'query/filter oneOf over overlapping shapes rejects every object query (upstream #45, #47)',
    apply: (doc) => oneOfToAnyOf(doc, ['query', 'filter']),
  },
  {
    id: 'attribute-value-oneof-anyof',
    reason: 'txnstatus_request.attribute_value oneOf has two identical string branches (upstream #46)',
    apply: (doc) => oneOfToAnyOf(doc, ['attribute_value']),
  },
  {
    id: 'fr-on-subscribe-post',
    reason: 'FR /registry/on-subscribe: `post: null` with the operation keys mis-indented one level up',
    apply: (doc) => {
      let changed = 0;
      for (const item of Object.values(doc.paths)) {
        if (!item || !('post' in item) || item.post !== null || !isObject(item.requestBody)) continue;
        const post: Json = {};
        for (const key of OPERATION_KEYS) {
          if (key in item) {
            post[key] = item[key];
            delete item[key];
          }
        }
        item.post = post;
        changed++;
      }
      return changed;
    },
  },
  {
    id: 'type-enum',
    reason: '`type: enum` is not a JSON Schema type (upstream-2024 registry_core notify response_entity)',
    apply: (doc) => {
      let changed = 0;
      walk(doc, (node) => {
        if (node.type === 'enum' && Array.isArray(node.enum)) {
          node.type = 'string';
          changed++;
        }
      });
      return changed;
    },
  },
];

function jsonBodySchema(operation: Json | undefined): Json | undefined {
  const body = operation?.requestBody;
  if (!isObject(body) || !isObject(body.content)) return undefined;
  const json = body.content['application/json'];
  return isObject(json) && isObject(json.schema) ? json.schema : undefined;
}

function messageBranch(envelope: Json | undefined): Json | undefined {
  const message = isObject(envelope?.properties) ? envelope.properties.message : undefined;
  if (!isObject(message)) return undefined;
  const first = Array.isArray(message.oneOf) ? (message.oneOf[0] as unknown) : message;
  return isObject(first) ? first : undefined;
}

export const OPTIONAL_OVERLAYS: Readonly<Record<string, SpecOverlay>> = {
  'txn-status-search-data': {
    id: 'txn-status-search-data',
    reason: 'the search variant of txn_status is a stale copy whose reg_records is an object (brief §10.2 #13)',
    apply: (doc) => {
      const onSearch = messageBranch(jsonBodySchema(doc.paths['/registry/on-search']?.post as Json | undefined));
      const data = (onSearch?.properties as Json | undefined)?.search_response as Json | undefined;
      const onSearchData = ((data?.items as Json | undefined)?.properties as Json | undefined)?.data;
      const txn = doc.components?.schemas?.TxnStatusResponse;
      const variants = (
        ((txn?.properties as Json | undefined)?.txnstatus_response as Json | undefined)?.properties as Json | undefined
      )?.txn_status as Json | undefined;
      const search = Array.isArray(variants?.oneOf) ? (variants.oneOf[0] as Json) : undefined;
      const items = ((search?.properties as Json | undefined)?.search_response as Json | undefined)?.items as
        Json | undefined;
      if (!isObject(onSearchData) || !isObject(items?.properties)) return 0;
      items.properties.data = onSearchData;
      return 1;
    },
  },
};

const cache = new Map<string, Promise<SpecDocument>>();

/** The raw (parsed, not dereferenced) YAML document. */
export function readSpec(file: string): SpecDocument {
  return parse(readFileSync(join(specDir(), file), 'utf8')) as SpecDocument;
}

/**
 * A spec document, dereferenced (`circular: 'ignore'`, no external resolution; the bundles have
 * refs that pass through other refs) and patched with `SPEC_OVERLAYS` plus the named optional
 * overlays. Cached per file and overlay set: treat the result as read-only.
 */
export function loadSpec(file: string, overlays: readonly string[] = []): Promise<SpecDocument> {
  const key = `${file}|${[...overlays].sort().join(',')}`;
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = (async () => {
      const doc = readSpec(file);
      await $RefParser.dereference(doc, {
        dereference: { circular: 'ignore' },
        resolve: { external: false },
      });
      for (const overlay of SPEC_OVERLAYS) overlay.apply(doc, file);
      for (const id of overlays) {
        const overlay = OPTIONAL_OVERLAYS[id];
        if (!overlay) throw new Error(`unknown spec overlay ${id}`);
        if (overlay.apply(doc, file) === 0) throw new Error(`spec overlay ${id} does not apply to ${file}`);
      }
      return doc;
    })();
    cache.set(key, loaded);
  }
  return loaded;
}

// ---------------------------------------------------------------------------------------------
// Validators

export type SpecBodyKind = 'request' | 'response' | 'callback';

/** A compiled spec validator. `target` says what it validates: the whole body or only `message`. */
export type SpecValidator = ValidateFunction & {
  /** `body`: the HTTP body; `message`: the spec declares a bare schema (IBR sync extras). */
  target: 'body' | 'message';
  file: string;
  path: string;
};

/** A spec defect that prevents building a validator (e.g. an operation that does not exist). */
export class SpecDefectError extends Error {
  override name = 'SpecDefectError';
}

/** The callback path of an async path (`/registry/search` → `/registry/on-search`). */
export const CALLBACK_PATHS: Readonly<Record<string, string>> = {
  '/registry/search': '/registry/on-search',
  '/registry/subscribe': '/registry/on-subscribe',
  '/registry/unsubscribe': '/registry/on-unsubscribe',
  '/registry/txn/status': '/registry/txn/on-status',
};

let specAjv: ReturnType<typeof createWireAjv> | undefined;

/** Ajv for spec documents: `strict: false` (ignores `example`, `x-*`), formats on, all errors. */
function ajv() {
  specAjv ??= createWireAjv({ allErrors: true });
  return specAjv;
}

function compileSpec(schema: Json, target: 'body' | 'message', file: string, path: string): SpecValidator {
  return Object.assign(ajv().compile(schema), { target, file, path });
}

export interface SpecValidatorOptions {
  /** Optional overlays to apply (`OPTIONAL_OVERLAYS`). */
  overlays?: readonly string[];
}

/**
 * The validator of one body of a spec document.
 * - `request`: the JSON request body of `path`/`method`.
 * - `callback`: the body the registry POSTs back. The YAMLs model callbacks as separate paths
 *   (`/registry/on-search`, …) rather than OpenAPI `callbacks`; `path` may be the async path
 *   (`/registry/search`) or the callback path itself (`/registry/on-search`, `/registry/notify`).
 * - `response`: the JSON body of `responses[status]` (default `default`). When the spec puts a
 *   bare schema there (IBR `sync/enrolled`, `sync/enrollment/updates`), the validator's `target` is
 *   `message`: apply it to the envelope's `message`.
 */
export async function specValidator(
  file: string,
  path: string,
  method: string,
  kind: SpecBodyKind,
  status = 'default',
  options: SpecValidatorOptions = {},
): Promise<SpecValidator> {
  const doc = await loadSpec(file, options.overlays);
  const operationAt = (p: string): Json => {
    const item = doc.paths[p];
    const operation = item?.[method];
    if (!isObject(operation)) throw new SpecDefectError(`${file}: no ${method.toUpperCase()} operation at ${p}`);
    return operation;
  };
  if (kind === 'request' || kind === 'callback') {
    let target = path;
    if (kind === 'callback') {
      const operation = operationAt(path);
      const declared = isObject(operation.callbacks) ? Object.values(operation.callbacks)[0] : undefined;
      if (isObject(declared)) {
        const expression = Object.values(declared)[0];
        const schema = isObject(expression) ? jsonBodySchema(expression[method] as Json | undefined) : undefined;
        if (schema) return compileSpec(schema, 'body', file, path);
      }
      target = CALLBACK_PATHS[path] ?? path;
    }
    const schema = jsonBodySchema(operationAt(target));
    if (!schema) throw new SpecDefectError(`${file}: ${target} has no application/json request body`);
    return compileSpec(schema, 'body', file, target);
  }
  const responses = operationAt(path).responses;
  const response = isObject(responses) ? responses[status] : undefined;
  if (!isObject(response)) throw new SpecDefectError(`${file}: ${path} declares no ${status} response`);
  if (isObject(response.content)) {
    const json = response.content['application/json'];
    if (!isObject(json) || !isObject(json.schema))
      throw new SpecDefectError(`${file}: ${path} ${status}: no JSON body`);
    return compileSpec(json.schema, 'body', file, path);
  }
  // A schema where a Response Object belongs (invalid OpenAPI; brief §1.3, §10.2 #6).
  if ('type' in response || 'properties' in response || 'allOf' in response) {
    return compileSpec(response, 'message', file, path);
  }
  throw new SpecDefectError(`${file}: ${path} ${status}: neither a response nor a schema`);
}

/** The validator of a named component schema (`components.schemas[name]`). */
export async function specComponentValidator(
  file: string,
  name: string,
  options: SpecValidatorOptions = {},
): Promise<SpecValidator> {
  const doc = await loadSpec(file, options.overlays);
  const schema = doc.components?.schemas?.[name];
  if (!isObject(schema)) throw new SpecDefectError(`${file}: no component schema ${name}`);
  return compileSpec(schema, 'body', file, `#/components/schemas/${name}`);
}

/**
 * Compact errors for assertion messages: `[{ path, message }]`. The envelope's `message` is a
 * `oneOf` of the domain message and `EncryptedMessage`; when the domain branch fails, Ajv also
 * reports every missing member of the encrypted branch and the `oneOf` summary: those are dropped.
 */
export function specErrors(errors: readonly ErrorObject[] | null | undefined): { path: string; message: string }[] {
  const noise = (e: ErrorObject) =>
    e.schemaPath.startsWith('#/properties/message/oneOf/1/') ||
    (e.keyword === 'oneOf' && e.schemaPath === '#/properties/message/oneOf');
  return (errors ?? [])
    .filter((e) => !noise(e))
    .map((e) => ({
      path: e.instancePath || '/',
      message: `${e.message ?? e.keyword}${e.keyword === 'enum' || e.keyword === 'const' ? ` ${JSON.stringify(e.params)}` : ''}`,
    }));
}

/** Validates with a spec validator; returns `[]` when valid, else the compact errors. */
export function specCheck(validate: SpecValidator, data: unknown): { path: string; message: string }[] {
  return validate(data) ? [] : specErrors(validate.errors);
}

// ---------------------------------------------------------------------------------------------
// Example instances

/** The request message schema (first branch of `message.oneOf`) of a path, dereferenced. */
export async function specRequestMessageSchema(file: string, path: string, method = 'post'): Promise<Json> {
  const doc = await loadSpec(file);
  const operation = doc.paths[path]?.[method];
  const message = messageBranch(jsonBodySchema(isObject(operation) ? operation : undefined));
  if (!message) throw new SpecDefectError(`${file}: ${path} has no request message schema`);
  return message;
}

const SAMPLE_TIMESTAMP = '2025-01-01T10:00:00Z';

/**
 * Instances of a schema assembled from the spec's own `example` values (every property filled,
 * one instance per `anyOf`/`oneOf` branch met). A schema without an example gets a neutral value
 * of its type (`x`, 1, true, the first enum value, a zoned date-time for `date-time`, `eng` for
 * the locale pattern). The spec's examples are used verbatim, including the invalid ones.
 */
export function exampleInstances(schema: unknown, depth = 0): unknown[] {
  if (!isObject(schema) || depth > 40) return [{}];
  if ('example' in schema && !isSchemaLike(schema.example)) return [schema.example];
  const alternatives = (
    Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  ) as unknown[] | undefined;
  if (alternatives) return alternatives.flatMap((branch) => exampleInstances(branch, depth + 1));
  if (Array.isArray(schema.allOf)) {
    const withExample = schema.allOf.find((part) => isObject(part) && 'example' in part);
    if (withExample) return exampleInstances(withExample, depth + 1);
    const typed = schema.allOf.filter((part) => isObject(part) && Object.keys(part).some((k) => k !== 'description'));
    return typed.length ? exampleInstances(typed[typed.length - 1], depth + 1) : [{}];
  }
  if (Array.isArray(schema.enum)) return [schema.enum[0]];
  const type = Array.isArray(schema.type) ? (schema.type[0] as unknown) : schema.type;
  if (type === 'array' || 'items' in schema) {
    return exampleInstances(schema.items, depth + 1).map((item) => [item]);
  }
  if (type === 'object' || isObject(schema.properties)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    const names = Object.keys(properties);
    const variants = names.map((name) => exampleInstances(properties[name], depth + 1));
    const count = Math.max(1, ...variants.map((v) => v.length));
    const out: Json[] = [];
    for (let i = 0; i < count; i++) {
      const instance: Json = {};
      names.forEach((name, n) => {
        const options = variants[n] ?? [];
        instance[name] = options[Math.min(i, options.length - 1)];
      });
      out.push(instance);
    }
    return out;
  }
  if (type === 'string') {
    if (schema.format === 'date-time') return [SAMPLE_TIMESTAMP];
    if (schema.format === 'uri') return ['https://example.org/'];
    if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^[a-z]{3')) return ['eng'];
    return ['x'];
  }
  if (type === 'integer' || type === 'number') return [1];
  if (type === 'boolean') return [true];
  return [{}];
}

/** `example` values that are themselves schemas (bundler artefact, brief §10.2 #13) are not examples. */
function isSchemaLike(value: unknown): boolean {
  return isObject(value) && (typeof value.type === 'string' || isObject(value.properties)) && !('@context' in value);
}
