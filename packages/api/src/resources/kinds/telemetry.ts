import { anyString, arr, bool, type Check, anyDuration, mapOf, num, obj, oneOf, str } from '../validate/schema';
import { oneSelectorType, policyTargetRef, workloadSelector } from './common';

const providers = arr(obj({ name: str({ nonEmpty: true }) }, { required: ['name'] }));
const mode = oneOf(['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'], 'workload mode');

const tagOverride = obj(
  { operation: oneOf(['UPSERT', 'REMOVE'], 'operation'), value: anyString },
  { check: (t, ctx) => {
    const op = t['operation'] ?? 'UPSERT';
    if (op === 'UPSERT' && (typeof t['value'] !== 'string' || t['value'] === '')) ctx.error('REQUIRED', 'value must be set when operation is UPSERT');
    if (op === 'REMOVE' && typeof t['value'] === 'string' && t['value'] !== '') ctx.error('CONSTRAINT', 'value may only be set when operation is UPSERT');
  } },
);

const metrics = obj({
  providers,
  overrides: arr(obj({
    match: obj({ metric: anyString, customMetric: str({ nonEmpty: true }), mode }),
    disabled: bool,
    tagOverrides: mapOf(tagOverride),
  })),
  reportingInterval: anyDuration,
});

const namedValue = obj({ name: str({ nonEmpty: true }), defaultValue: anyString }, { required: ['name'] });

const tracing = obj({
  match: obj({ mode }),
  providers,
  randomSamplingPercentage: num({ min: 0, max: 100 }),
  disableSpanReporting: bool,
  customTags: mapOf(obj({ literal: obj({ value: str({ nonEmpty: true }) }, { required: ['value'] }), environment: namedValue, header: namedValue })),
  enableIstioTags: bool,
});

const accessLogging = obj({
  match: obj({ mode }),
  providers,
  disabled: bool,
  filter: obj({ expression: anyString }),
});

export const telemetrySpec: Check = obj(
  {
    selector: workloadSelector,
    targetRef: policyTargetRef,
    targetRefs: arr(policyTargetRef),
    tracing: arr(tracing),
    metrics: arr(metrics),
    accessLogging: arr(accessLogging),
  },
  { check: oneSelectorType },
);
