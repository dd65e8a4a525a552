/** Personal fields replaced in stored payloads unless configured otherwise. */
export const DEFAULT_REDACTED_FIELDS = [
  'name',
  'given_name',
  'surname',
  'second_name',
  'maiden_name',
  'first_name',
  'last_name',
  'birth_date',
  'date_of_birth',
  'death_date',
  'phone_number',
  'phones',
  'email',
  'emails',
  'address',
  'identifier_value',
  'geo_location',
];

export type AuditPayloads = 'full' | 'redacted' | 'none';

/** A deep copy of `value` with the named fields replaced by "[redacted]". */
export function redact(value: unknown, fields: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, fields));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[key] = fields.has(key) && v !== null && v !== undefined ? '[redacted]' : redact(v, fields);
    }
    return out;
  }
  return value;
}
