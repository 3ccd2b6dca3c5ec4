import { EventEmitter } from 'node:events';
import { flushOnShutdown, type ShutdownProcess } from './shutdown';

/** A process stand-in: signals are events; `kill` records what was sent. */
const fakeProcess = () => {
  const emitter = new EventEmitter();
  const killed: string[] = [];
  const proc = Object.assign(emitter, {
    pid: 42,
    kill: (_pid: number, signal: NodeJS.Signals) => killed.push(signal),
  }) as unknown as ShutdownProcess & EventEmitter;
  return { proc, killed };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('flushOnShutdown', () => {
  it('on a signal with no other listener, stops tracing, then lets the signal end the process', async () => {
    const { proc, killed } = fakeProcess();
    const stop = jest.fn(async () => undefined);
    flushOnShutdown(stop, proc);
    proc.emit('SIGTERM', 'SIGTERM');
    await settle();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(killed).toEqual(['SIGTERM']);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('waits for the app to shut down (it re-sends the signal) before stopping tracing', async () => {
    const { proc, killed } = fakeProcess();
    const stop = jest.fn(async () => undefined);
    flushOnShutdown(stop, proc);
    // What NestJS's shutdown hooks do: close the app, remove their listener, send the signal again.
    const appShutdown = () => {
      proc.removeListener('SIGTERM', appShutdown);
      setImmediate(() => proc.emit('SIGTERM', 'SIGTERM'));
    };
    proc.on('SIGTERM', appShutdown);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(stop).not.toHaveBeenCalled();
    await settle();
    await settle();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(killed).toEqual(['SIGTERM']);
  });

  it('stops tracing when the event loop empties, and still ends the process when stopping fails', async () => {
    const { proc, killed } = fakeProcess();
    const stop = jest.fn(async () => {
      throw new Error('collector unreachable');
    });
    flushOnShutdown(stop, proc);
    proc.emit('beforeExit');
    proc.emit('SIGINT', 'SIGINT');
    await settle();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(killed).toEqual(['SIGINT']);
  });
});
