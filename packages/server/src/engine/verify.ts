/**
 * Verify (OpenDCI extension, contract §9): the protocol handler behind `…/registry/sync/verify`.
 * Each `verify_request` item names a registrant by an identifier and lists claims about them;
 * the answer is `yes` / `no` / `unknown` per claim and overall, never record data. A bad item is
 * a `rjct` result, never an exception; a registrant that is not found (or, for a consent-based
 * sender, not visible) answers `unknown` for every claim, exactly as a claim whose value is not
 * recorded — so the answer does not tell whether the person exists.
 */
import {
  isDciError,
  verifyResponseMessage,
  type SearchStatusReasonCode,
  type VerifyItemInput,
  type VerifyOutcome,
  type VerifyResponse,
} from '@opendci/protocol';
import type { Domain } from '../config.js';
import type { Caller } from './inbound.js';

export interface ClaimAnswer {
  /** Whether a record (visible to the sender) holds the identifier. */
  found: boolean;
  /** One outcome per claim, under the caller's attribute names. */
  claims: Record<string, VerifyOutcome>;
}

export interface VerifyPorts {
  /** Checks one item's claims; throws an error with a `rjct.*` `code` for a bad identifier, claim or value. */
  check(input: {
    domain: Domain;
    idType: string;
    idValue: string;
    claims: Record<string, unknown>;
    consentSenderId?: string;
  }): Promise<ClaimAnswer>;
}

export interface VerifySettings {
  domain: Domain;
}

export interface VerifyAnswer {
  message: VerifyResponse;
  /** The header status: every item succ → succ, none → rjct, else part. */
  status: 'succ' | 'rjct' | 'part';
  referenceIds: string[];
}

type Item = Record<string, unknown>;

/** A `VerifyRequest` message as the HTTP layer hands it over (schema-checked). */
export interface VerifyMessage {
  transaction_id: string;
  verify_request: Item[];
}

class ItemRejection extends Error {
  constructor(
    readonly code: SearchStatusReasonCode,
    message: string,
  ) {
    super(message);
  }
}

const REJECTIONS: ReadonlySet<string> = new Set(['rjct.search_criteria.invalid']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const invalid = (message: string) => new ItemRejection('rjct.search_criteria.invalid', message);

/** `verify_criteria` → the identifier and the claims (the schema checked the shape; checked again here). */
function readCriteria(item: Item): { idType: string; idValue: string; claims: Record<string, unknown> } {
  const criteria = item.verify_criteria;
  if (!isObject(criteria)) throw invalid('verify_criteria must be an object');
  if (criteria.query_type !== 'idtype-value') throw invalid('verify_criteria.query_type must be idtype-value');
  const query = criteria.query;
  if (!isObject(query)) throw invalid('verify_criteria.query must be an object {type, value}');
  const { type, value } = query;
  if (typeof type !== 'string' || type.trim() === '') throw invalid('the identifier type must be a non-empty string');
  const idValue =
    typeof value === 'string'
      ? value
      : (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean'
        ? String(value)
        : undefined;
  if (idValue === undefined) throw invalid('the identifier value must be a string');
  const claims = criteria.claims;
  if (!isObject(claims) || Object.keys(claims).length === 0)
    throw invalid('verify_criteria.claims must be an object with at least one attribute');
  return { idType: type, idValue, claims };
}

async function answer(item: Item, caller: Caller, ports: VerifyPorts, settings: VerifySettings): Promise<ClaimAnswer> {
  const { idType, idValue, claims } = readCriteria(item);
  let checked: ClaimAnswer;
  try {
    checked = await ports.check({
      domain: settings.domain,
      idType,
      idValue,
      claims,
      ...(caller.sender.legalBasis === 'consent' ? { consentSenderId: caller.sender.id } : {}),
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!isDciError(error) && typeof code === 'string' && REJECTIONS.has(code)) {
      throw new ItemRejection(code as SearchStatusReasonCode, (error as Error).message);
    }
    throw error;
  }
  // Not found: every claim is unknown, whatever the port said.
  const outcomes = Object.fromEntries(
    Object.keys(claims).map((name) => {
      const outcome = checked.found ? checked.claims[name] : undefined;
      return [name, outcome === 'yes' || outcome === 'no' ? outcome : 'unknown'] as const;
    }),
  );
  return { found: checked.found, claims: outcomes };
}

export async function verify(
  message: VerifyMessage,
  correlationId: string,
  caller: Caller,
  ports: VerifyPorts,
  settings: VerifySettings,
): Promise<VerifyAnswer> {
  const seen = new Set<string>();
  const items: VerifyItemInput[] = [];
  for (const item of message.verify_request) {
    const referenceId = String(item.reference_id);
    const locale = typeof item.locale === 'string' ? { locale: item.locale } : {};
    try {
      if (seen.has(referenceId)) {
        throw new ItemRejection(
          'rjct.reference_id.duplicate',
          `reference_id ${referenceId} is used twice in this message`,
        );
      }
      seen.add(referenceId);
      const { claims } = await answer(item, caller, ports, settings);
      items.push({ referenceId, claims, ...locale });
    } catch (error) {
      if (!(error instanceof ItemRejection)) throw error;
      items.push({ referenceId, status: 'rjct', reasonCode: error.code, reasonMessage: error.message, ...locale });
    }
  }
  const built = verifyResponseMessage({ transactionId: message.transaction_id, correlationId, items });
  const succeeded = built.verify_response.filter((r) => r.status === 'succ').length;
  return {
    message: built,
    status: succeeded === items.length ? 'succ' : succeeded === 0 ? 'rjct' : 'part',
    referenceIds: built.verify_response.map((r) => r.reference_id),
  };
}
