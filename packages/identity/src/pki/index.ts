export { generateWorkloadKey, generateRsaKey, importSpkiDer, privateKeyToPem, publicKeyToSpkiDer } from './keys';
export type { KeyPair } from './keys';
export { buildCsr, parseCsr } from './csr';
export type { ParsedCsr } from './csr';
export { parseCertificateDer } from './certificate-der';
export type { CertificateFields } from './certificate-der';
