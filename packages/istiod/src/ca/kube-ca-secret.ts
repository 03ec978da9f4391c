import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CA_CERT_FILE, CA_KEY_FILE, type CaSecretStore, type SelfSignedCaPems } from './ca-store';
import { CaStateError } from './errors';

/** Secret name istiod self-signs into when no `cacerts` is plugged in (security/pkg/pki/ca/ca.go). */
export const CA_SECRET_NAME = 'istio-ca-secret';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/**
 * Kubernetes mode: the self-signed root in Secret istio-ca-secret of istiod's namespace. A 404 on read means
 * "no root yet". Saving is a create: when two replicas start together the API server accepts exactly one
 * create and answers 409 AlreadyExists to the other, which then reads and adopts the winner's root (Istio's
 * self-signed CA does the same: on a create conflict it reloads the secret), so the mesh has one root.
 */
export function kubernetesCaSecretStore(kc: KubeConfig, namespace: string): CaSecretStore {
  const api = kc.makeApiClient(CoreV1Api);
  const description = `Secret ${namespace}/${CA_SECRET_NAME}`;
  const load = async (): Promise<SelfSignedCaPems | undefined> => {
    try {
      const secret = await api.readNamespacedSecret({ name: CA_SECRET_NAME, namespace });
      const caCertPem = unb64(secret.data?.[CA_CERT_FILE]);
      const caKeyPem = unb64(secret.data?.[CA_KEY_FILE]);
      return caCertPem === undefined || caKeyPem === undefined ? undefined : { caCertPem, caKeyPem };
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  };
  return {
    description,
    load,
    save: async (p) => {
      try {
        await create(p);
        return p;
      } catch (err) {
        if (statusCodeOf(err) !== 409) throw err;
      }
      const winner = await load();
      if (winner === undefined) throw new CaStateError({ path: description, reason: `it already exists (409) but has no ${CA_CERT_FILE}/${CA_KEY_FILE}; fix or delete it` });
      return winner;
    },
  };

  async function create(p: SelfSignedCaPems): Promise<void> {
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
  }
}

function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
