/** Loads the committed test vectors (packages/protocol/test-vectors, made by generate.py). */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SignatureAlgorithm } from '../signature.js';

export const VECTORS_DIR = new URL('../../test-vectors/', import.meta.url);

export interface FormVector {
  canonical: string;
  canonicalUtf8Hex: string;
  digest: string;
  signingString: string;
  signatures: Record<SignatureAlgorithm, string>;
}

export interface EnvelopeVector {
  name: string;
  description: string;
  header: Record<string, unknown>;
  message: Record<string, unknown>;
  jcs: FormVector;
  openspp: FormVector;
}

export interface ValueVector {
  name: string;
  value: unknown;
  jcs: string;
  openspp: string;
}

export interface KeyVector {
  privateKeyFile: string;
  publicKeyFile: string;
  jwk: Record<string, string>;
  kid: string;
}

export interface Vectors {
  generatedBy: string;
  senderId: string;
  created: number;
  expires: number;
  keys: Record<SignatureAlgorithm, KeyVector>;
  envelopes: EnvelopeVector[];
  values: ValueVector[];
}

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  vector: KeyVector;
}

export function readVectorFile(name: string): string {
  return readFileSync(new URL(name, VECTORS_DIR), 'utf8');
}

export const vectors = JSON.parse(readVectorFile('vectors.json')) as Vectors;

function loadKey(algorithm: SignatureAlgorithm): TestKey {
  const vector = vectors.keys[algorithm];
  return {
    privateKey: createPrivateKey(readVectorFile(vector.privateKeyFile)),
    publicKey: createPublicKey(readVectorFile(vector.publicKeyFile)),
    kid: vector.kid,
    vector,
  };
}

export const testKeys: Record<SignatureAlgorithm, TestKey> = {
  ed25519: loadKey('ed25519'),
  'rsa-sha256': loadKey('rsa-sha256'),
};

export function envelopeVector(name: string): EnvelopeVector {
  const found = vectors.envelopes.find((e) => e.name === name);
  if (!found) throw new Error(`no envelope vector ${name}`);
  return found;
}
