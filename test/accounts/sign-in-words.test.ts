// What a throttled sign-in form says (src/accounts/sign-in.ts): the wait to the lock's end in whole minutes,
// never less than one, the same words for every form and whether or not the email has an account.
import { describe, expect, it } from 'vitest';
import { BAD_CREDENTIALS_MESSAGE, throttledMessage } from '../../src/accounts/sign-in.ts';

describe('throttledMessage', () => {
  it('rounds the wait up to whole minutes', () => {
    expect(throttledMessage(900)).toBe('Too many sign-in attempts. Wait 15 minutes, then try again.');
    expect(throttledMessage(841)).toBe('Too many sign-in attempts. Wait 15 minutes, then try again.');
    expect(throttledMessage(61)).toBe('Too many sign-in attempts. Wait 2 minutes, then try again.');
  });

  it('says "1 minute" for the last minute, down to the last second', () => {
    expect(throttledMessage(60)).toBe('Too many sign-in attempts. Wait 1 minute, then try again.');
    expect(throttledMessage(1)).toBe('Too many sign-in attempts. Wait 1 minute, then try again.');
  });
});

describe('the wrong-password words', () => {
  it('name neither the email nor the password as the wrong one', () => {
    expect(BAD_CREDENTIALS_MESSAGE).toBe('That email and password do not match an account. Check them and try again.');
  });
});
