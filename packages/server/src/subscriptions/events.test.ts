import { describe, expect, it } from 'vitest';
import { canonicalEventType, eventPairs, notifyTarget } from './events.js';

describe('event types', () => {
  it('maps the accepted spellings to the canonical names, per domain (contract §8)', () => {
    expect(canonicalEventType('crvs', 'live_birth')).toBe('LiveBirth');
    expect(canonicalEventType('crvs', 'BIRTH')).toBe('LiveBirth');
    expect(canonicalEventType('crvs', 'spdci-common:RegistryEventType:LiveBirth')).toBe('LiveBirth');
    expect(canonicalEventType('crvs', 'death')).toBe('Death');
    expect(canonicalEventType('ibr', 'enrolment')).toBe('enrollement');
    expect(canonicalEventType('ibr', 'Enrollment_Status_Change')).toBe('enrollement_status_change');
    expect(canonicalEventType('social', 'registration')).toBe('REGISTER');
    expect(canonicalEventType('social', 'newhouseholdmember')).toBe('NewHouseHoldMember');
    expect(canonicalEventType('dr', 'update')).toBe('UPDATE');
  });

  it('refuses events a domain does not raise, and unknown names', () => {
    expect(canonicalEventType('social', 'LiveBirth')).toBeUndefined();
    expect(canonicalEventType('dr', 'NewHouseHoldMember')).toBeUndefined();
    expect(canonicalEventType('fr', 'Explosion')).toBeUndefined();
    expect(canonicalEventType('social', '')).toBeUndefined();
  });

  it('names the registry changes behind each event', () => {
    expect(eventPairs('social', ['REGISTER'])).toEqual([
      ['REGISTER', 'individual'],
      ['REGISTER', 'household'],
    ]);
    expect(eventPairs('dr', ['REGISTER'])).toEqual([['REGISTER', 'disability']]);
  });
});

describe('notify target', () => {
  it("is the sender's notify URI, else sender_uri with /on-subscribe made /notify", () => {
    expect(notifyTarget('https://mis.example/hook', 'https://x.example/registry/on-subscribe')).toBe(
      'https://mis.example/hook',
    );
    expect(notifyTarget(null, 'https://x.example/registry/on-subscribe')).toBe('https://x.example/registry/notify');
    expect(notifyTarget(null, 'https://x.example/registry/on-subscribe?t=1')).toBe(
      'https://x.example/registry/notify?t=1',
    );
    expect(notifyTarget(null, 'https://x.example/callbacks')).toBe('https://x.example/callbacks');
    expect(notifyTarget(null, undefined)).toBeUndefined();
  });
});
