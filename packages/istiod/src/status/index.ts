export { StatusWriter, mergeConditions, STATUS_DEBOUNCE_MS, STATUS_RESYNC_INTERVAL_MS, STATUS_MIN_WRITE_INTERVAL_MS, type StatusWriterOptions } from './status-writer';
export { desiredStatus, objectPath, OWNED_CONDITION_TYPES, type OwnedCondition } from './desired';
