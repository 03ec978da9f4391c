import { describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../ca/authority';
import type { Identity } from '../spiffe/identity';
import { CertificateManager, type CertificateRequest, type FetchFailedEvent, type RotationEvent } from './certificate-manager';
import { FakeClock, flush } from '../../test/fake-clock';

const HOUR_MS = 3_600_000;
const ca = CertificateAuthority.selfSigned({ now: Date.UTC(2029, 0, 1) });
const alice: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'alice' };
const bob: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bob' };

/** A fake CA client backed by the real issuer; can be told to fail or to hang. */
function fakeCa(clock: FakeClock, ttlMs = 4 * HOUR_MS) {
  const calls: CertificateRequest[] = [];
  const state = { failuresLeft: 0, hang: false, sanOverride: undefined as Identity | undefined };
  const fetch = async (req: CertificateRequest): Promise<string[]> => {
    calls.push(req);
    await Promise.resolve();
    if (state.hang) return new Promise<string[]>(() => undefined);
    if (state.failuresLeft > 0) {
      state.failuresLeft--;
      throw Object.assign(new Error('istiod unavailable'), { code: 14 });
    }
    return ca.issueWorkloadCert({ identity: state.sanOverride ?? req.identity, csrPem: req.csrPem, ttlMs, now: clock.now() }).certChainPem;
  };
  return { calls, state, fetch };
}

function setup(ttlMs?: number) {
  const clock = new FakeClock();
  const server = fakeCa(clock, ttlMs);
  const manager = new CertificateManager({ fetch: server.fetch, clock, random: () => 1, initialBackoffMs: 1000 });
  const rotated: RotationEvent[] = [];
  const failed: FetchFailedEvent[] = [];
  manager.onRotated((e) => rotated.push(e));
  manager.onFetchFailed((e) => failed.push(e));
  return { clock, server, manager, rotated, failed };
}

describe('CertificateManager', () => {
  it('fetches once and serves the cached certificate with its key and roots', async () => {
    const { manager, server, rotated, clock } = setup();
    const cert = await manager.get(alice);
    expect(cert.identity).toEqual(alice);
    expect(cert.certChainPem).toHaveLength(1);
    expect(cert.rootsPem).toBe(ca.rootCertPem);
    expect(cert.keyPem).toBe(server.calls[0]?.keyPem);
    expect(cert.notAfterMs - cert.notBeforeMs).toBe(4 * HOUR_MS);
    expect(cert.notBeforeMs).toBe(clock.now());
    expect(await manager.get(alice)).toBe(cert);
    expect(server.calls).toHaveLength(1);
    expect(rotated).toHaveLength(1);
    expect(manager.peek(alice)).toBe(cert);
  });

  it('coalesces concurrent requests for one identity, not across identities', async () => {
    const { manager, server } = setup();
    const results = await Promise.all([manager.get(alice), manager.get(alice), manager.get(bob), manager.get(alice)]);
    expect(server.calls.map((c) => c.identity.serviceAccount).sort()).toEqual(['alice', 'bob']);
    expect(results[0]).toBe(results[1]);
    expect(results[0]).toBe(results[3]);
    expect(results[2]?.identity).toEqual(bob);
  });

  it('sends a P-256 CSR for the identity', async () => {
    const { manager, server } = setup();
    await manager.get(alice);
    const { parseCsr } = await import('../pki/csr');
    const csr = parseCsr(server.calls[0]?.csrPem ?? '');
    expect(csr.uriSans).toEqual(['spiffe://cluster.local/ns/default/sa/alice']);
    expect(csr.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('refreshes at half-life and emits a rotation with the previous certificate', async () => {
    const { manager, server, rotated, clock } = setup();
    const first = await manager.get(alice);
    await clock.advance(2 * HOUR_MS - 1);
    expect(server.calls).toHaveLength(1);
    await clock.advance(1);
    expect(server.calls).toHaveLength(2);
    const second = await manager.get(alice);
    expect(second).not.toBe(first);
    expect(second.keyPem).not.toBe(first.keyPem);
    expect(rotated[1]).toMatchObject({ identity: alice, certificate: second, previous: first });
  });

  it('retries with exponential backoff capped at maxBackoff, then succeeds', async () => {
    const clock = new FakeClock();
    const server = fakeCa(clock);
    const manager = new CertificateManager({ fetch: server.fetch, clock, random: () => 1, initialBackoffMs: 1000, maxBackoffMs: 5000 });
    const failed: FetchFailedEvent[] = [];
    manager.onFetchFailed((e) => failed.push(e));
    server.state.failuresLeft = 5;
    const pending = manager.get(alice, { timeoutMs: 60_000 });
    await clock.advance(1000 + 2000 + 4000 + 5000 + 5000);
    const cert = await pending;
    expect(cert.identity).toEqual(alice);
    expect(failed.map((f) => f.retryInMs)).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(failed.map((f) => f.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(server.calls).toHaveLength(6);
  });

  it('jitters the backoff into the upper half of the window', async () => {
    const clock = new FakeClock();
    const server = fakeCa(clock);
    const manager = new CertificateManager({ fetch: server.fetch, clock, random: () => 0, initialBackoffMs: 1000 });
    const failed: FetchFailedEvent[] = [];
    manager.onFetchFailed((e) => failed.push(e));
    server.state.failuresLeft = 2;
    manager.prefetch(alice);
    await clock.advance(10_000);
    expect(failed.map((f) => f.retryInMs)).toEqual([500, 1000]);
    expect(manager.peek(alice)).toBeDefined();
  });

  it('get() rejects with a typed timeout carrying the last CA error, and never waits forever', async () => {
    const { manager, server, clock } = setup();
    server.state.failuresLeft = 100;
    const pending = manager.get(alice, { timeoutMs: 3000 });
    const outcome = pending.catch((e: unknown) => e);
    await clock.advance(3000);
    const err = (await outcome) as { code: string; cause: Error; message: string };
    expect(err.code).toBe('IDENTITY_CERT_TIMEOUT');
    expect(err.cause.message).toBe('istiod unavailable');
    expect(err.message).toContain('spiffe://cluster.local/ns/default/sa/alice');
  });

  it('get() times out when the CA never answers', async () => {
    const { manager, server, clock } = setup();
    server.state.hang = true;
    const outcome = manager.get(alice, { timeoutMs: 500 }).catch((e: unknown) => e);
    await clock.advance(500);
    expect(await outcome).toMatchObject({ code: 'IDENTITY_CERT_TIMEOUT' });
  });

  it('keeps serving the old certificate while a refresh fails, until it expires', async () => {
    const { manager, server, clock, failed } = setup();
    const first = await manager.get(alice);
    server.state.failuresLeft = 1000;
    await clock.advance(3 * HOUR_MS);
    expect(failed.length).toBeGreaterThan(0);
    expect(await manager.get(alice)).toBe(first);
    await clock.advance(HOUR_MS);
    const outcome = manager.get(alice, { timeoutMs: 100 }).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await outcome).toMatchObject({ code: 'IDENTITY_CERT_TIMEOUT' });
  });

  it('rejects a response whose SAN is not the requested identity, and retries', async () => {
    const { manager, server, clock, failed } = setup();
    server.state.sanOverride = bob;
    const outcome = manager.get(alice, { timeoutMs: 5000 }).catch((e: unknown) => e);
    await flush();
    expect(failed[0]?.error).toMatchObject({ code: 'IDENTITY_CERT_BAD_RESPONSE' });
    server.state.sanOverride = undefined;
    await clock.advance(1000);
    expect((await outcome) as unknown).toMatchObject({ identity: alice });
  });

  it('forget() and close() reject waiters and stop timers', async () => {
    const { manager, server, clock } = setup();
    await manager.get(bob);
    server.state.hang = true;
    const outcome = manager.get(alice, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await flush();
    manager.forget(alice);
    expect(await outcome).toMatchObject({ code: 'IDENTITY_MANAGER_CLOSED' });
    manager.close();
    expect(clock.pending).toBe(0);
    expect(manager.peek(bob)).toBeUndefined();
  });
});
