import { Counter, type Registry } from '@mesh/core';

/** Istio's citadel server metric names (security/pkg/server/ca/monitoring.go). */
export interface CaMetrics {
  readonly csrs: Counter<string>;
  readonly issued: Counter<string>;
  readonly authnFailures: Counter<string>;
  readonly csrParseErrors: Counter<string>;
  readonly csrSignErrors: Counter<string>;
}

export function createCaMetrics(registry: Registry): CaMetrics {
  const registers = [registry];
  return {
    csrs: new Counter({ name: 'citadel_server_csr_count', help: 'The number of CSRs received by Citadel server.', registers }),
    issued: new Counter({
      name: 'citadel_server_success_cert_issuance_count',
      help: 'The number of certificates issuances that have succeeded.',
      registers,
    }),
    authnFailures: new Counter({
      name: 'citadel_server_authentication_failure_count',
      help: 'The number of authentication failures.',
      registers,
    }),
    csrParseErrors: new Counter({
      name: 'citadel_server_csr_parsing_err_count',
      help: 'The number of errors occurred when parsing the CSR.',
      registers,
    }),
    csrSignErrors: new Counter({
      name: 'citadel_server_csr_sign_err_count',
      help: 'The number of errors occurred when signing the CSR.',
      registers,
    }),
  };
}
