// The input of `multilane topics produce`: text lines become values with the flags' key,
// headers and partition; JSON lines override them field by field; CRLF and empty lines are
// handled; every rule broken names the source and the line.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseProduceInput } from '../../../src/producing/produce-input.ts'

test('text lines: one record per non-empty line (CRLF too), with the flags’ key, headers and partition', () => {
  const records = parseProduceInput(
    'a\r\n\r\nb\n',
    't',
    'lines',
    { key: 'k', headers: { h: '1' }, partition: 2 },
    'stdin',
  )
  assert.deepEqual(records, [
    { topic: 't', value: 'a', headers: { h: '1' }, key: 'k', partition: 2 },
    { topic: 't', value: 'b', headers: { h: '1' }, key: 'k', partition: 2 },
  ])
})

test('JSON lines: key, value, headers and partition of the line win over the flags; non-string values become JSON', () => {
  const records = parseProduceInput(
    [
      '{"key": null, "value": {"a": [1]}, "headers": {"h": "2", "x": "y"}, "partition": 0}',
      '{"value": "plain"}',
    ].join('\n'),
    't',
    'json',
    { key: 'k', headers: { h: '1', f: 'flag' }, partition: 3 },
    '--file f.jsonl',
  )
  assert.deepEqual(records, [
    { topic: 't', value: '{"a":[1]}', headers: { h: '2', f: 'flag', x: 'y' }, key: null, partition: 0 },
    { topic: 't', value: 'plain', headers: { h: '1', f: 'flag' }, key: 'k', partition: 3 },
  ])
})

test('a bad JSON line names the source and the line number, and the rule', () => {
  const cases: Array<[string, RegExp]> = [
    ['[1]', /^--file f line 2: must be a JSON object .* got an array/],
    ['{"value": "v", "key": 5}', /^--file f line 2: "key" must be a string or null, got number/],
    ['{"value": "v", "headers": ["h"]}', /^--file f line 2: "headers" must be an object of string values/],
    ['{"value": "v", "partition": 1.5}', /^--file f line 2: "partition" must be an integer ≥ 0, got 1.5/],
  ]
  for (const [line, message] of cases) {
    assert.throws(
      () => parseProduceInput(`{"value": "ok"}\n${line}`, 't', 'json', { headers: {} }, '--file f'),
      (e: Error & { code?: string }) => e.code === 'INVALID_PRODUCE_RECORD' && message.test(e.message),
      line,
    )
  }
})
