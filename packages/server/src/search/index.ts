export { runSearch, type RunSearchOptions, type SearchResult } from './execute.js';
export { checkClaims, MAX_CLAIMS, type CheckClaimsOptions, type ClaimCheck, type ClaimOutcome } from './verify.js';
export {
  compileSearch,
  compileWhere,
  compileCondition,
  sortAttributes,
  checkPage,
  type CompiledSearch,
  type ConsentFilter,
  type SearchPlan,
} from './compile.js';
export {
  VOCABULARY,
  WELL_KNOWN_IDENTIFIER_TYPES,
  findRecordType,
  resolveAttribute,
  resolveRecordType,
  identifierCondition,
  yearsBefore,
  type Attribute,
  type AttributeType,
  type CompileContext,
  type DomainVocabulary,
  type RecordKind,
  type RecordTypeDef,
  type ResolvedRecordType,
  type RowScope,
} from './vocabulary.js';
export type { Condition } from './sql.js';
