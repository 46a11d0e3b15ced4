import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestLogArgs } from './nest-log-args.js';

describe('nestLogArgs', () => {
  it('takes the last parameter as the context', () => {
    assert.deepEqual(nestLogArgs('info', 'Mapped {/x, GET} route', ['RouterExplorer']), {
      fields: { context: 'RouterExplorer' },
      args: ['Mapped {/x, GET} route'],
    });
    assert.deepEqual(nestLogArgs('info', 'n=%d', [3, 'Ctx']), {
      fields: { context: 'Ctx' },
      args: ['n=%d', 3],
    });
    assert.deepEqual(nestLogArgs('warn', 'no context', []), { fields: {}, args: ['no context'] });
  });

  it('logs an Error as err and an object as fields', () => {
    const error = new Error('boom');
    assert.deepEqual(nestLogArgs('error', error, ['Ctx']), {
      fields: { context: 'Ctx', err: error },
      args: [],
    });
    assert.deepEqual(nestLogArgs('info', { device: 'd1', msg: 'hello' }, []), {
      fields: { device: 'd1', msg: 'hello' },
      args: [],
    });
  });

  it("turns an exception handler's (message, stack, context) into an err with that stack", () => {
    const stack = 'Error: boom\n    at handler (file.js:1:1)';
    const call = nestLogArgs('error', 'boom', [stack, 'ExceptionsHandler']);
    assert.equal(call.fields.context, 'ExceptionsHandler');
    assert.deepEqual(call.args, []);
    assert.equal((call.fields.err as Error).message, 'boom');
    assert.equal((call.fields.err as Error).stack, stack);
  });

  it('keeps a second string that is not a stack as a format argument', () => {
    assert.deepEqual(nestLogArgs('error', 'failed: %s', ['disk full', 'Ctx']), {
      fields: { context: 'Ctx' },
      args: ['failed: %s', 'disk full'],
    });
  });
});
