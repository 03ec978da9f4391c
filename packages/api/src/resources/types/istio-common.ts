import type { KubeObject } from './meta';

/** Istio serves v1, v1beta1 and v1alpha3 (networking) from one schema. */
export type IstioNetworkingApiVersion = 'networking.istio.io/v1' | 'networking.istio.io/v1beta1' | 'networking.istio.io/v1alpha3';
export type IstioSecurityApiVersion = 'security.istio.io/v1' | 'security.istio.io/v1beta1';
export type IstioTelemetryApiVersion = 'telemetry.istio.io/v1' | 'telemetry.istio.io/v1alpha1';

export type IstioObject<K extends string, A extends string, S> = KubeObject<K, A> & {
  spec: S;
  status?: Record<string, unknown>;
};

/** istio.type.v1beta1.WorkloadSelector. */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

/** istio.type.v1beta1.PolicyTargetReference. */
export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** networking.v1alpha3.StringMatch: exactly one of the fields. */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface Percent {
  value: number;
}
