'use strict';
// Node-style errors: the same classes, `code`s and messages node:cluster and
// child_process throw for the same bad input.
const { inspect } = require('node:util');

const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];
const classRegExp = /^([A-Z][a-z0-9]*)+$/;
const kLegacyFunctionFormat = Number(process.versions.node.split('.')[0]) < 20;

function formatList(list, word = 'and') {
  if (list.length < 3) return list.join(` ${word} `);
  return `${list.slice(0, -1).join(', ')}, ${word} ${list[list.length - 1]}`;
}

function describeReceived(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint': return `type bigint (${value}n)`;
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)';
      return `type number (${value})`;
    case 'boolean': return `type boolean (${value})`;
    case 'symbol': return `type symbol (${String(value)})`;
    case 'function':
      // Node 18 describes an anonymous function by its inspection.
      if (!value.name && kLegacyFunctionFormat) return `type function (${inspect(value, { depth: -1 })})`;
      return `function ${value.name}`;
    case 'object':
      if (value.constructor && 'name' in value.constructor) return `an instance of ${value.constructor.name}`;
      return inspect(value, { depth: -1 });
    default: {
      let shown = value;
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      if (inspect(shown).length > 28 && shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type string (${inspect(shown)})`;
    }
  }
}

function makeError(Base, code, message) {
  const error = new Base(message);
  Object.defineProperty(error, 'toString', {
    value() { return `${this.name} [${code}]: ${this.message}`; },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  error.code = code;
  // The stack's first line names the code, as Node's own errors do.
  error.stack = error.stack.replace(/^[A-Za-z]*Error/, `${error.name} [${code}]`);
  return error;
}

function invalidArgType(name, expected, actual) {
  if (!Array.isArray(expected)) expected = [expected];
  let msg = 'The ';
  if (name.endsWith(' argument')) msg += `${name} `;
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  msg += 'must be ';
  const types = [];
  const instances = [];
  const other = [];
  for (const value of expected) {
    if (kTypes.includes(value)) types.push(value.toLowerCase());
    else if (classRegExp.test(value)) instances.push(value);
    else other.push(value);
  }
  if (instances.length > 0) {
    const pos = types.indexOf('object');
    if (pos !== -1) {
      types.splice(pos, 1);
      instances.push('Object');
    }
  }
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances, 'or')}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 0) {
    if (other.length > 1) msg += `one of ${formatList(other, 'or')}`;
    else msg += `${other[0].toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`;
  }
  msg += `. Received ${describeReceived(actual)}`;
  return makeError(TypeError, 'ERR_INVALID_ARG_TYPE', msg);
}

function invalidArgValue(name, value, reason = 'is invalid') {
  let inspected = inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  const type = name.includes('.') ? 'property' : 'argument';
  return makeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${type} '${name}' ${reason}. Received ${inspected}`);
}

function missingArgs(...names) {
  const wrapped = names.map((a) => `"${a}"`);
  return makeError(TypeError, 'ERR_MISSING_ARGS',
    `The ${formatList(wrapped)} argument${names.length > 1 ? 's' : ''} must be specified`);
}

function outOfRange(name, range, received) {
  return makeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(received)}`);
}

const simple = (Base, code, message) => () => makeError(Base, code, message);

module.exports = {
  invalidArgType,
  invalidArgValue,
  missingArgs,
  outOfRange,
  ipcChannelClosed: simple(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed'),
  ipcDisconnected: simple(Error, 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'),
  ipcOnePipe: simple(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe'),
  invalidHandleType: simple(TypeError, 'ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent'),
  ipcRequired: (name) => makeError(Error, 'ERR_CHILD_PROCESS_IPC_REQUIRED',
    `Forked processes must have an IPC channel, missing value 'ipc' in ${name}`),
  socketBadPort: (name, port, allowZero = true) => makeError(RangeError, 'ERR_SOCKET_BAD_PORT',
    `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${describeReceived(port)}.`),
  internalAssertion: (message) => makeError(Error, 'ERR_INTERNAL_ASSERTION', `${message}\n` +
    'This is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n' +
    'Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n'),
  childClosedBeforeReply: simple(Error, 'ERR_CHILD_CLOSED_BEFORE_REPLY',
    'Child closed before reply received'),
  channelProtocol: (message) => makeError(Error, 'ERR_IPC_CHANNEL_PROTOCOL', message),
};
