import { describe, expect, it } from 'vitest';
import { parseCniArgs, parseCniEnv } from './cni-env';

describe('CNI environment', () => {
  it('parses CNI_ARGS pairs, keeping "=" inside values', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web-0;K8S_POD_NAMESPACE=default;X=a=b;')).toEqual({
      IgnoreUnknown: '1',
      K8S_POD_NAME: 'web-0',
      K8S_POD_NAMESPACE: 'default',
      X: 'a=b',
    });
  });

  it('rejects a pair without "=" as an invalid environment', () => {
    expect(() => parseCniArgs('K8S_POD_NAME')).toThrow(expect.objectContaining({ cniCode: 4 }));
  });

  it('DEL does not need CNI_NETNS but ADD does', () => {
    const base = { CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
    expect(parseCniEnv({ ...base, CNI_COMMAND: 'DEL' }).command).toBe('DEL');
    expect(() => parseCniEnv({ ...base, CNI_COMMAND: 'ADD' })).toThrow(/CNI_NETNS/);
  });

  it('rejects unknown commands and unsafe container ids', () => {
    expect(() => parseCniEnv({ CNI_COMMAND: 'FOO' })).toThrow(expect.objectContaining({ cniCode: 4 }));
    expect(() =>
      parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: '../etc', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }),
    ).toThrow(expect.objectContaining({ cniCode: 4 }));
  });
});
