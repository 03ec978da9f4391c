import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CA_CERT_FILE, CA_KEY_FILE, type CaSecretStore } from './ca-store';

/** Secret name istiod self-signs into when no `cacerts` is plugged in (security/pkg/pki/ca/ca.go). */
export const CA_SECRET_NAME = 'istio-ca-secret';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/**
 * Kubernetes mode: the self-signed root in Secret istio-ca-secret of istiod's namespace. A 404 on read means
 * "no root yet"; a create conflict (another istiod won the race) is surfaced so the caller restarts and
 * loads the winner's root instead of forking trust.
 */
export function kubernetesCaSecretStore(kc: KubeConfig, namespace: string): CaSecretStore {
  const api = kc.makeApiClient(CoreV1Api);
  return {
    description: `Secret ${namespace}/${CA_SECRET_NAME}`,
    load: async () => {
      try {
        const secret = await api.readNamespacedSecret({ name: CA_SECRET_NAME, namespace });
        const caCertPem = unb64(secret.data?.[CA_CERT_FILE]);
        const caKeyPem = unb64(secret.data?.[CA_KEY_FILE]);
        return caCertPem === undefined || caKeyPem === undefined ? undefined : { caCertPem, caKeyPem };
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    save: async (p) => {
      await api.createNamespacedSecret({
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'istio.io/ca-root',
          metadata: { name: CA_SECRET_NAME, namespace },
          data: { [CA_CERT_FILE]: b64(p.caCertPem), [CA_KEY_FILE]: b64(p.caKeyPem) },
        },
      });
    },
  };
}

function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
