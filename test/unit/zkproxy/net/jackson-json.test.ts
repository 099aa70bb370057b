/**
 * The AdminServer's JSON text: Jackson's default pretty printer, as ZooKeeper 3.8 prints it
 * (the expected texts are ZooKeeper 3.8.0's answers, with its values), and exact 64-bit ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonDouble, formatJackson } from '../../../../zkproxy/net/jackson-json';

test('objects, nesting and the empty forms as Jackson indents them', () => {
  assert.equal(formatJackson({ command: 'ruok', error: null }), '{\n  "command" : "ruok",\n  "error" : null\n}');
  assert.equal(formatJackson({ connections: [], secure_connections: [], map: {} }), '{\n  "connections" : [ ],\n  "secure_connections" : [ ],\n  "map" : { }\n}');
  assert.equal(
    formatJackson({ server_stats: { packets_sent: 1, client_response_stats: { last_buffer_size: -1 } }, node_count: 5 }),
    '{\n  "server_stats" : {\n    "packets_sent" : 1,\n    "client_response_stats" : {\n      "last_buffer_size" : -1\n    }\n  },\n  "node_count" : 5\n}',
  );
  assert.equal(
    formatJackson({ connections: [{ remote_socket_address: '127.0.0.1:42230', packets_sent: 5 }] }),
    '{\n  "connections" : [ {\n    "remote_socket_address" : "127.0.0.1:42230",\n    "packets_sent" : 5\n  } ]\n}',
  );
});

test('64-bit ids stay exact, doubles keep a fraction, strings are escaped', () => {
  assert.equal(formatJackson({ '72060277219852288': ['/a', '/zz'] }), '{\n  "72060277219852288" : [ "/a", "/zz" ]\n}');
  assert.equal(formatJackson([72060277219852288n, -9223372036854775808n]), '[ 72060277219852288, -9223372036854775808 ]');
  assert.equal(formatJackson([new JsonDouble(0), new JsonDouble(11.2), 0, 12]), '[ 0.0, 11.2, 0, 12 ]');
  assert.equal(formatJackson({ text: 'a "b"\n' }), '{\n  "text" : "a \\"b\\"\\n"\n}');
});
