import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@mesh/core';
import { RequestMetrics, type RequestRecord } from './request-metrics';

const rec = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  source: { workload: 'client', namespace: 'default', principal: 'spiffe://cluster.local/ns/default/sa/client' },
  destination: { service: 'echo.default.svc.cluster.local', workload: 'echo', namespace: 'default' },
  protocol: 'http', responseCode: 200, responseFlags: '-', durationMs: 3, requestBytes: 10, responseBytes: 2000, ...over,
});

describe('RequestMetrics', () => {
  it('renders Istio request metrics in the Prometheus text format, one series per label set', async () => {
    const registry = createMetricsRegistry();
    const m = new RequestMetrics(registry);
    m.record(rec());
    m.record(rec({ durationMs: 7 }));
    m.record(rec({ responseCode: 503, responseFlags: 'UH' }));
    const text = await registry.metrics();
    expect(text).toContain('# TYPE istio_requests_total counter');
    expect(text).toMatch(/istio_requests_total\{reporter="waypoint",source_workload="client"[^}]*response_code="200"[^}]*\} 2/);
    expect(text).toMatch(/istio_requests_total\{[^}]*response_code="503",grpc_response_status="",response_flags="UH"[^}]*\} 1/);
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram');
    // 3 and 7 ms: nothing <= 1, both <= 10, count 2, sum 10.
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*response_code="200"[^}]*,le="1"\} 0/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*response_code="200"[^}]*,le="5"\} 1/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*response_code="200"[^}]*,le="10"\} 2/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*response_code="200"[^}]*,le="\+Inf"\} 2/);
    expect(text).toMatch(/istio_request_duration_milliseconds_sum\{[^}]*response_code="200"[^}]*\} 10/);
    expect(text).toMatch(/istio_request_duration_milliseconds_count\{[^}]*response_code="200"[^}]*\} 2/);
    expect(text).toMatch(/istio_response_bytes_bucket\{[^}]*response_code="200"[^}]*,le="1000"\} 0/);
    expect(text).toMatch(/istio_response_bytes_bucket\{[^}]*response_code="200"[^}]*,le="10000"\} 2/);
  });

  it('counts records whose facts differ only in ways the labels do not show in one series', async () => {
    const registry = createMetricsRegistry();
    const m = new RequestMetrics(registry);
    m.record(rec({ source: { workload: 'client', cluster: '' } }));
    m.record(rec({ source: { workload: 'client' } }));
    const text = await registry.metrics();
    expect(text.match(/^istio_requests_total\{/gm)).toHaveLength(1);
    expect(text).toMatch(/istio_requests_total\{[^}]*source_cluster="unknown"[^}]*\} 2/);
  });

  it('adds gRPC message counts to the request\'s series, and exports none for requests without them', async () => {
    const registry = createMetricsRegistry();
    const m = new RequestMetrics(registry);
    m.record(rec({ protocol: 'grpc', grpcStatus: 0, requestMessages: 1, responseMessages: 1 }));
    m.record(rec({ protocol: 'grpc', grpcStatus: 0, requestMessages: 10, responseMessages: 0 }));
    m.record(rec({ protocol: 'grpc', grpcStatus: 5, requestMessages: 1, responseMessages: 0 }));
    m.record(rec());
    const text = await registry.metrics();
    expect(text).toContain('# TYPE istio_request_messages_total counter');
    expect(text).toContain('# TYPE istio_response_messages_total counter');
    expect(text).toMatch(/istio_request_messages_total\{reporter="waypoint",[^}]*request_protocol="grpc",response_code="200",grpc_response_status="0",response_flags="-",connection_security_policy="mutual_tls"\} 11/);
    expect(text).toMatch(/istio_response_messages_total\{[^}]*grpc_response_status="0"[^}]*\} 1$/m);
    expect(text).toMatch(/istio_request_messages_total\{[^}]*grpc_response_status="5"[^}]*\} 1$/m);
    expect(text).toMatch(/istio_response_messages_total\{[^}]*grpc_response_status="5"[^}]*\} 0$/m);
    expect(text.match(/^istio_request_messages_total\{/gm)).toHaveLength(2);
    expect(text).not.toMatch(/istio_re(quest|sponse)_messages_total\{[^}]*request_protocol="http"/);
  });
});
