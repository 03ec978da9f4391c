export * from './constants';
export { CniRedirectionError, type CniErrorCode } from './errors';
export { DEFAULT_INPOD_REDIRECTION_CONFIG, resolveInPodConfig, type InPodRedirectionConfig } from './config';
export { renderFreshRuleSet, renderFreshTable, type Rule, type RuleSet, type TableRules } from './rule-set';
export { buildInPodRuleSet, INPOD_OWNED_CHAINS } from './inpod-rules';
export { buildInPodNftScript, buildNftRemovalScript, NFT_INPOD_TABLES } from './nft-rules';
export { buildHostProbeRuleSet, buildProbeIpsetCreateArgs, buildProbeIpsetDestroyArgs, HOST_OWNED_CHAINS } from './host-rules';
export { parseIptablesSave, rulesByChain, type SavedTable } from './save-parser';
export { buildTableRemoval, buildTableTransaction, tableMatches } from './transaction';
export { ipRuleArgs, loopbackRouteArgs } from './routing';
export { NETNS_EXEC_OFF } from './netns-session';
export { closeNetnsExecPool, prewarmNetnsExec, type NetnsExecOptions } from './exec';
export { detectIptablesBackend, type IptablesBackend, type IptablesBinaries } from './backend';
export {
  applyHostProbeRules,
  applyInPodRedirection,
  removeHostProbeRules,
  removeInPodRedirection,
  type RedirectionApplyResult,
} from './applier';
