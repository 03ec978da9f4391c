import type { IstioObject, IstioTelemetryApiVersion, PolicyTargetReference, WorkloadSelector } from './istio-common';

export interface ProviderRef {
  name: string;
}

export interface TagOverride {
  operation?: 'UPSERT' | 'REMOVE';
  value?: string;
}

export interface MetricsOverrides {
  match?: { metric?: string; customMetric?: string; mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  disabled?: boolean;
  tagOverrides?: Record<string, TagOverride>;
}

export interface TelemetryMetrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  reportingInterval?: string;
}

export interface TelemetryTracing {
  match?: { mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  providers?: ProviderRef[];
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<string, { literal?: { value: string }; environment?: { name: string; defaultValue?: string }; header?: { name: string; defaultValue?: string } }>;
}

export interface TelemetryAccessLogging {
  match?: { mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  providers?: ProviderRef[];
  disabled?: boolean;
  filter?: { expression: string };
}

export interface TelemetrySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: TelemetryTracing[];
  metrics?: TelemetryMetrics[];
  accessLogging?: TelemetryAccessLogging[];
}

export type Telemetry = IstioObject<'Telemetry', IstioTelemetryApiVersion, TelemetrySpec>;
