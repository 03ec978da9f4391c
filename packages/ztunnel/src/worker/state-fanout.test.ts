import { describe, expect, it } from 'vitest';
import { isMeshError } from '@mesh/core';
import { AddressSchema, fromBinary } from '@mesh/api';
import { MeshState } from '../state/index';
import { makeWorkload, wlUpdate } from '../state/test-fixtures';
import type { XdsDelta } from './protocol';
import { StateFanout } from './state-fanout';

const wl = (name: string): ReturnType<typeof wlUpdate> => wlUpdate(makeWorkload({ name, namespace: 'ns', sa: 'sa', ips: ['10.0.0.1'] }));

describe('StateFanout', () => {
  it('settles an apply (and so the xDS ACK) only after every worker applied it', async () => {
    const fanout = new StateFanout(new MeshState());
    const sent: XdsDelta[] = [];
    let release: () => void = () => undefined;
    fanout.connect((d) => {
      sent.push(d);
      return new Promise((r) => {
        release = r;
      });
    });
    let settled = false;
    const applied = fanout.applyAddresses([wl('a')], []).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    expect(fanout.state.workloadCount).toBe(1);
    expect(sent).toHaveLength(1);
    expect(fromBinary(AddressSchema, sent[0]!.updates[0]![1]).type.case).toBe('workload');
    release();
    await applied;
    expect(settled).toBe(true);
  });

  it('hands a later worker a snapshot of what was accepted, without what was removed', async () => {
    const fanout = new StateFanout(new MeshState());
    await fanout.applyAddresses([wl('a'), wl('b')], []);
    const a = wl('a');
    await fanout.applyAddresses([], [a.name]);
    const snapshot = fanout.connect(() => Promise.resolve());
    const names = snapshot.find((d) => d.kind === 'address')!.updates.map(([n]) => n);
    expect(names).toEqual([wl('b').name]);
  });

  it('forwards nothing when the main store rejects the delta (NACK)', async () => {
    const fanout = new StateFanout(new MeshState());
    const sent: XdsDelta[] = [];
    fanout.connect((d) => {
      sent.push(d);
      return Promise.resolve();
    });
    const bad = { name: 'x', resource: { ...wl('a').resource, type: { case: undefined } } } as unknown as ReturnType<typeof wlUpdate>;
    expect(() => fanout.applyAddresses([bad], [])).toThrow();
    expect(sent).toEqual([]);
  });
  it('forwards the accepted part of a partly rejected batch, then NACKs it', async () => {
    const fanout = new StateFanout(new MeshState());
    await fanout.applyAddresses([wl('old')], []);
    const sent: XdsDelta[] = [];
    fanout.connect((d) => {
      sent.push(d);
      return Promise.resolve();
    });
    const bad = { name: 'x', resource: { ...wl('a').resource, type: { case: undefined } } } as unknown as ReturnType<typeof wlUpdate>;
    const err = await fanout.applyAddresses([wl('a'), bad], [wl('old').name]).catch((e: unknown) => e);
    expect(isMeshError(err, 'STATE_REJECTED_RESOURCES')).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.updates.map(([n]) => n)).toEqual([wl('a').name]);
    expect(sent[0]!.removed).toEqual([wl('old').name]);
    expect(fanout.connect(() => Promise.resolve())[0]!.updates.map(([n]) => n)).toEqual([wl('a').name]);
  });
});
