import { status, type Metadata, type Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  addGrpcService,
  create,
  IstioCertificateResponseSchema,
  IstioCertificateService,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from '@mesh/api';
import { isMeshError, type Logger, type Registry } from '@mesh/core';
import {
  CertificateAuthority,
  DEFAULT_WORKLOAD_CERT_TTL_MS,
  formatSpiffeId,
  makeIdentity,
  MAX_WORKLOAD_CERT_TTL_MS,
  parseCsr,
  type Identity,
} from '@mesh/identity';
import type { Authenticator, CallerIdentity } from '../auth';
import { createCaMetrics, type CaMetrics } from './metrics';
import { NodeAuthorizer } from './node-auth';
import type { NodePodIndex } from './node-pod-index';

/** Request metadata key ztunnel sets to the SPIFFE id it asks for (Istio: security.ImpersonatedIdentity). */
export const IMPERSONATED_IDENTITY_KEY = 'ImpersonatedIdentity';
const MS_PER_S = 1000;

export interface CaServiceOptions {
  /** The signer; a function so a reloaded plug-in CA is picked up without re-registering. */
  ca: CertificateAuthority | (() => CertificateAuthority);
  authenticate: Authenticator;
  nodeIndex: NodePodIndex;
  trustDomain: string;
  trustedNodeAccounts: readonly string[];
  maxTtlMs?: number;
  defaultTtlMs?: number;
  registry?: Registry;
  logger?: Logger;
}

type Reply = { code: status; details: string } | { chain: string[] };

/**
 * istiod's IstioCertificateService (security/pkg/server/ca/server.go): authenticate the caller, decide the
 * identity (its own, or an impersonated one for trusted node agents), check the CSR, sign with a bounded
 * TTL and answer leaf first, roots last.
 */
export class CaService {
  private readonly metrics: CaMetrics | undefined;
  private readonly nodeAuth: NodeAuthorizer;
  private readonly maxTtlMs: number;
  private readonly defaultTtlMs: number;

  constructor(private readonly options: CaServiceOptions) {
    this.metrics = options.registry === undefined ? undefined : createCaMetrics(options.registry);
    this.nodeAuth = new NodeAuthorizer({
      trustedNodeAccounts: options.trustedNodeAccounts,
      index: options.nodeIndex,
      trustDomain: options.trustDomain,
    });
    this.maxTtlMs = options.maxTtlMs ?? MAX_WORKLOAD_CERT_TTL_MS;
    this.defaultTtlMs = options.defaultTtlMs ?? DEFAULT_WORKLOAD_CERT_TTL_MS;
  }

  /** Adds IstioCertificateService to a grpc-js server (the same one that serves xDS on :15012). */
  register(server: Server): void {
    addGrpcService(server, IstioCertificateService, {
      createCertificate: (call: ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, cb: sendUnaryData<IstioCertificateResponse>) => {
        this.handle(call.request, call.metadata, call.getPeer()).then(
          (r) => ('chain' in r ? cb(null, create(IstioCertificateResponseSchema, { certChain: r.chain })) : cb(r)),
          (err: unknown) => cb({ code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) }),
        );
      },
    });
  }

  /** The TTL actually used: ≤0 → default; longer than the maximum → the maximum. */
  effectiveTtlMs(requestedSeconds: bigint | number): number {
    const s = Number(requestedSeconds);
    if (!Number.isFinite(s) || s <= 0) return this.defaultTtlMs;
    return Math.min(s * MS_PER_S, this.maxTtlMs);
  }

  private async handle(req: IstioCertificateRequest, metadata: Metadata, peer: string): Promise<Reply> {
    this.metrics?.csrs.inc();
    let caller: CallerIdentity;
    try {
      caller = await this.options.authenticate({ metadata, peer });
    } catch (err) {
      this.metrics?.authnFailures.inc();
      return this.refuse(status.UNAUTHENTICATED, err, peer);
    }
    let identity: Identity;
    try {
      identity = this.identityFor(caller, req);
    } catch (err) {
      this.metrics?.authnFailures.inc();
      return this.refuse(status.UNAUTHENTICATED, err, peer);
    }
    let spki: Buffer;
    try {
      spki = parseCsr(req.csr).spki;
    } catch (err) {
      this.metrics?.csrParseErrors.inc();
      return this.refuse(status.INVALID_ARGUMENT, err, peer);
    }
    return this.sign(identity, spki, req.validityDuration, peer);
  }

  private sign(identity: Identity, spki: Buffer, ttlS: bigint, peer: string): Reply {
    try {
      const ca = typeof this.options.ca === 'function' ? this.options.ca() : this.options.ca;
      const issued = ca.issueWorkloadCert({ identity, spki, ttlMs: this.effectiveTtlMs(ttlS) });
      this.metrics?.issued.inc();
      const log = this.options.logger;
      // Checked first so the per-certificate fields are not built when debug is off (the usual case).
      if (log?.isLevelEnabled('debug') === true) {
        log.debug({ peer, identity: formatSpiffeId(identity), notAfter: new Date(issued.notAfterMs).toISOString() }, 'issued workload certificate');
      }
      return { chain: issued.certChainPem };
    } catch (err) {
      this.metrics?.csrSignErrors.inc();
      return this.refuse(status.INTERNAL, err, peer);
    }
  }

  /** Istio ignores the CSR's SANs: the identity is the caller's, or the impersonated one if allowed. */
  private identityFor(caller: CallerIdentity, req: IstioCertificateRequest): Identity {
    const impersonated = req.metadata?.[IMPERSONATED_IDENTITY_KEY];
    if (typeof impersonated === 'string' && impersonated !== '') return this.nodeAuth.authorize(caller, impersonated);
    return makeIdentity(this.options.trustDomain, caller.namespace, caller.serviceAccount);
  }

  private refuse(code: status, err: unknown, peer: string): Reply {
    const details = err instanceof Error ? err.message : String(err);
    this.options.logger?.warn({ peer, grpcCode: status[code], code: isMeshError(err) ? err.code : undefined, reason: details }, 'certificate request refused');
    return { code, details };
  }
}
