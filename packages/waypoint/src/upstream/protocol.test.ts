import { describe, expect, it } from 'vitest';
import { workload } from '@mesh/api';
import { appProtocolName, portHttpVersion } from './protocol';

describe('portHttpVersion', () => {
  it('takes the declared protocol first', () => {
    expect(portHttpVersion('GRPC', 'http-web')).toBe('http2');
    expect(portHttpVersion('HTTP2', undefined)).toBe('http2');
    expect(portHttpVersion('HTTP', 'grpc')).toBe('http1');
  });

  it('falls back to the port name prefix, as Istio does', () => {
    expect(portHttpVersion('', 'grpc')).toBe('http2');
    expect(portHttpVersion(undefined, 'grpc-api')).toBe('http2');
    expect(portHttpVersion('', 'http2-internal')).toBe('http2');
    expect(portHttpVersion('', 'http-web')).toBe('http1');
    expect(portHttpVersion('', 'grpc-web')).toBe('http1');
  });

  it('leaves auto-detected ports undecided', () => {
    expect(portHttpVersion('', '')).toBeUndefined();
    expect(portHttpVersion(undefined, 'web')).toBeUndefined();
  });

  it('names WDS appProtocols in the same vocabulary', () => {
    expect(appProtocolName(workload.AppProtocol.GRPC)).toBe('GRPC');
    expect(appProtocolName(workload.AppProtocol.HTTP2)).toBe('HTTP2');
    expect(appProtocolName(workload.AppProtocol.UNKNOWN)).toBe('');
  });
});
