/** Authentication and keys: client secrets, senders, sender keys, server keys, OAuth2, and their routes. */
export { generateSecret, hashSecret, verifySecret as verifySecretHash } from './secrets.js';
export {
  SenderStore,
  SenderError,
  SENDER_OPERATIONS,
  ALL_OPERATIONS,
  SIGNATURE_POLICIES,
  LEGAL_BASES,
  SENDER_ID_PATTERN,
  matchesCallbackPattern,
  callbackAllowed,
  checkCallbackPattern,
  parsePublicKeyPem,
  parseOperations,
  parseDomains,
  parseFields,
  type Sender,
  type SenderKey,
  type SenderOperation,
  type SignaturePolicy,
  type LegalBasis,
  type ListInput,
  type NewSender,
  type NewSenderKey,
  type SenderFields,
  type SenderPatch,
  type SenderErrorKind,
  type ParsedPublicKey,
} from './senders.js';
export { SenderKeyResolver, keysFromJwks, type SenderKeyResolverOptions } from './sender-keys.js';
export {
  ServerKeys,
  ServerKeyError,
  listServerKeys,
  rotateServerKey,
  type ActiveServerKey,
  type ServerKeyInfo,
  type ServerKeyStatus,
  type ServerKeysOptions,
  type RotateOptions,
} from './server-keys.js';
export {
  TokenService,
  OAuthError,
  TOKEN_LIFETIME_SECONDS,
  type TokenRequest,
  type TokenResponse,
  type VerifiedToken,
  type TokenServiceOptions,
} from './oauth.js';
export { securityRoutes, type SecurityRoutesOptions } from './routes.js';
