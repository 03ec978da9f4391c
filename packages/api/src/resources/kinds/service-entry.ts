import type { ValidationContext } from '../validate/context';
import {
  anyString,
  arr,
  bool,
  type Check,
  eachIn,
  has,
  int,
  isObj,
  lenOf,
  mapOf,
  type Obj,
  obj,
  oneOf,
  port,
  stringList,
  str,
} from '../validate/schema';
import { exportTo, ipOrCidr, isIP, labels, wildcardHost } from './common';

const PORT_NAME = str({ nonEmpty: true, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, format: 'a DNS-1123 label', maxLength: 63 });
/** Protocols istio's protocol.Parse understands (case-insensitive). */
const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP', 'HBONE']);

const protocol = str({ check: (s, ctx) => {
  if (s !== '' && !PROTOCOLS.has(s.toUpperCase())) {
    ctx.error('INVALID_ENUM', `unsupported protocol ${JSON.stringify(s)}: expected one of ${[...PROTOCOLS].join('|')}`);
  }
} });

export const workloadEntryFields = {
  address: anyString,
  ports: mapOf(port, (k, ctx) => {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(k)) ctx.error('INVALID_FORMAT', `invalid port name ${JSON.stringify(k)}`);
  }),
  labels,
  network: anyString,
  locality: anyString,
  weight: int(0),
  serviceAccount: anyString,
};

/** validateWorkloadEntry: address required unless a network is set (then warn). */
function workloadEntryAddress(we: Obj, ctx: ValidationContext): void {
  const addr = we['address'];
  if (addr === undefined || addr === null || addr === '') {
    if (typeof we['network'] === 'string' && we['network'] !== '') ctx.warn('REQUIRED', 'address is unset with a network set');
    else ctx.errorAt('address', 'REQUIRED', 'is required');
    return;
  }
  if (typeof addr !== 'string') return;
  if (addr.startsWith('unix://')) {
    if (lenOf(we, 'ports') > 0 || (isObj(we['ports']) && Object.keys(we['ports']).length > 0)) {
      ctx.errorAt('ports', 'CONSTRAINT', `unix endpoint ${addr} must not include ports`);
    }
  } else if (!isIP(addr) && !/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?\.?$/.test(addr)) {
    ctx.errorAt('address', 'INVALID_FORMAT', `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`);
  }
}

export const workloadEntrySpec: Check = obj(workloadEntryFields, { check: workloadEntryAddress });

const servicePort = obj({ number: port, protocol, name: PORT_NAME, targetPort: port }, { required: ['number', 'name'] });

function serviceEntryRules(s: Obj, ctx: ValidationContext): void {
  if (has(s, 'workloadSelector') && has(s, 'endpoints')) {
    ctx.error('CONSTRAINT', 'only one of workloadSelector or endpoints is allowed in a ServiceEntry');
  }
  eachIn(s, 'hosts', ctx, (h) => {
    if (h === '*') ctx.error('INVALID_FORMAT', 'invalid host "*": full wildcard is not allowed in a ServiceEntry');
  });
  const resolution = s['resolution'] ?? 'NONE';
  const cidr = Array.isArray(s['addresses']) && s['addresses'].some((a) => typeof a === 'string' && a.includes('/'));
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') {
    ctx.errorAt('addresses', 'CONSTRAINT', 'CIDR addresses are allowed only for NONE/STATIC resolution types');
  }
  const names = new Set<string>();
  const numbers = new Set<number>();
  eachIn(s, 'ports', ctx, (p) => {
    if (!isObj(p)) return;
    if (typeof p['name'] === 'string' && names.has(p['name'])) ctx.errorAt('name', 'CONSTRAINT', `port name ${JSON.stringify(p['name'])} already defined`);
    if (typeof p['number'] === 'number' && numbers.has(p['number'])) ctx.errorAt('number', 'CONSTRAINT', `port ${p['number']} already defined`);
    if (typeof p['name'] === 'string') names.add(p['name']);
    if (typeof p['number'] === 'number') numbers.add(p['number']);
  });
  if (resolution === 'NONE' && lenOf(s, 'endpoints') > 0) {
    ctx.errorAt('endpoints', 'CONSTRAINT', 'no endpoints should be provided for resolution type NONE');
  }
  if (resolution === 'DNS_ROUND_ROBIN' && lenOf(s, 'endpoints') > 1) {
    ctx.errorAt('endpoints', 'CONSTRAINT', 'there must be only 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN');
  }
  eachIn(s, 'endpoints', ctx, (e) => {
    if (!isObj(e)) return;
    workloadEntryAddress(e, ctx);
    if (isObj(e['ports'])) {
      for (const name of Object.keys(e['ports'])) {
        if (!names.has(name)) ctx.errorAt('ports', 'CONSTRAINT', `endpoint port ${JSON.stringify(name)} is not defined by the service entry`);
      }
    }
  });
}

export const serviceEntrySpec: Check = obj(
  {
    hosts: arr(wildcardHost, { minItems: 1 }),
    addresses: arr(ipOrCidr),
    ports: arr(servicePort),
    location: oneOf(['MESH_EXTERNAL', 'MESH_INTERNAL'], 'location'),
    resolution: oneOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'], 'resolution'),
    endpoints: arr(obj(workloadEntryFields)),
    workloadSelector: obj({ labels }),
    exportTo,
    subjectAltNames: stringList,
  },
  { required: ['hosts'], check: serviceEntryRules },
);

const serverTls = obj({
  mode: oneOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'], 'TLS mode'),
  credentialName: anyString,
  credentialNames: stringList,
  httpsRedirect: bool,
  serverCertificate: anyString,
  privateKey: anyString,
  caCertificates: anyString,
  subjectAltNames: stringList,
  minProtocolVersion: anyString,
  maxProtocolVersion: anyString,
  cipherSuites: stringList,
});

const server = obj(
  {
    port: obj({ number: port, protocol, name: anyString, targetPort: port }, { required: ['number', 'protocol', 'name'] }),
    bind: anyString,
    hosts: arr(str({ nonEmpty: true }), { minItems: 1 }),
    tls: serverTls,
    name: anyString,
    defaultEndpoint: anyString,
  },
  { required: ['port', 'hosts'] },
);

export const istioGatewaySpec: Check = obj({ servers: arr(server), selector: labels });
