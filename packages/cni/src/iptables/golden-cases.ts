import type { InPodRedirectionConfig } from './config';

/** Named configurations rendered to testdata/<name>_{v4,v6}.golden (shared by unit and kernel tests). */
export const GOLDEN_INPOD_CASES: Record<string, Partial<InPodRedirectionConfig>> = {
  inpod_default: {},
  inpod_dns_disabled: { redirectDns: false },
  inpod_ingress: { ingressMode: true },
  inpod_virtual_interfaces: { virtualInterfaces: ['virt0', 'virt1'] },
  inpod_ingress_and_virtual_interfaces: { ingressMode: true, virtualInterfaces: ['virt0'] },
};
