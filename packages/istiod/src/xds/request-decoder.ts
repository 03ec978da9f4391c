import { DeltaDiscoveryRequestSchema, fromBinary, type DeltaDiscoveryRequest } from '@mesh/api';

const WIRE_LEN = 2;
/** Thrown inside the fast path when the request uses a field it does not read; never escapes. */
const NOT_FAST = new Error('not an ACK-shaped request');

/**
 * Decodes a DeltaDiscoveryRequest. After the first request of a stream, nearly every request is an ACK
 * (type_url + response_nonce) or a subscription change (names): those fields are read directly off the
 * wire, one request per push per client. Anything else (the node, initial versions, a NACK's
 * error_detail, locators, unknown fields, malformed input) goes to the generated decoder.
 */
export function decodeDeltaRequest(buf: Buffer): DeltaDiscoveryRequest {
  try {
    return fastDecode(buf);
  } catch (err) {
    if (err !== NOT_FAST) throw err;
    return fromBinary(DeltaDiscoveryRequestSchema, buf);
  }
}

function fastDecode(buf: Buffer): DeltaDiscoveryRequest {
  const req: DeltaDiscoveryRequest = {
    $typeName: 'envoy.service.discovery.v3.DeltaDiscoveryRequest',
    typeUrl: '',
    resourceNamesSubscribe: [],
    resourceNamesUnsubscribe: [],
    resourceLocatorsSubscribe: [],
    resourceLocatorsUnsubscribe: [],
    initialResourceVersions: {},
    responseNonce: '',
  };
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (pos >= buf.length) throw NOT_FAST;
      const b = buf[pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw NOT_FAST;
  };
  while (pos < buf.length) {
    const tag = varint();
    if ((tag & 7) !== WIRE_LEN) throw NOT_FAST;
    const len = varint();
    const end = pos + len;
    if (end > buf.length) throw NOT_FAST;
    const field = tag >>> 3;
    if (field !== 2 && field !== 3 && field !== 4 && field !== 6) throw NOT_FAST;
    const s = buf.toString('utf8', pos, end);
    pos = end;
    if (field === 2) req.typeUrl = s;
    else if (field === 3) req.resourceNamesSubscribe.push(s);
    else if (field === 4) req.resourceNamesUnsubscribe.push(s);
    else req.responseNonce = s;
  }
  return req;
}
