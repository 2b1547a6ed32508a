/** Pure parts of MCP: tool names, fingerprints, the settings reader, the config hash, `.vscode/mcp.json`, result formatting. */
import assert from 'node:assert/strict';
import { configHash, readServerConfigs, secretRefs, type McpServerConfig } from '../../../../src/gateway/mcp/mcpConfig';
import { parseMcpJson } from '../../../../src/gateway/mcp/mcpJson';
import { formatToolResult } from '../../../../src/gateway/mcp/mcpResult';
import { MAX_TOOL_NAME, qualifiedToolName, toolFingerprint } from '../../../../src/gateway/mcp/toolNames';

describe('mcp: names, config, mcp.json, results', () => {
  it('names tools <server>__<tool>, legal for every provider, within 64 characters, unique', () => {
    assert.equal(qualifiedToolName('github', 'create_issue'), 'github__create_issue');
    assert.equal(qualifiedToolName('my.server', 'get data'), 'my_server__get_data');
    assert.equal(qualifiedToolName('a__b', 'c'), 'a_b__c', 'a server name cannot fake the separator');
    const long = qualifiedToolName('server', 'x'.repeat(100));
    assert.equal(long.length, MAX_TOOL_NAME);
    assert.match(long, /^server__x+_[0-9a-f]{6}$/);
    const taken = new Set(['s__t']);
    const second = qualifiedToolName('s', 't', taken);
    assert.notEqual(second, 's__t');
    assert.match(second, /^[A-Za-z0-9_-]{1,64}$/);
  });

  it('fingerprints name, description and schema (key order does not matter)', () => {
    const a = toolFingerprint('t', 'd', { type: 'object', properties: { x: { type: 'string' } } });
    assert.equal(a, toolFingerprint('t', 'd', { properties: { x: { type: 'string' } }, type: 'object' }));
    assert.notEqual(a, toolFingerprint('t', 'd!', { type: 'object', properties: { x: { type: 'string' } } }));
    assert.notEqual(a, toolFingerprint('t', 'd', { type: 'object', properties: { x: { type: 'number' } } }));
  });

  it('reads server settings: bad entries are reported and left out, the rest kept', () => {
    const { servers, problems } = readServerConfigs([
      { name: 'ok', command: 'node', args: ['s.js'], env: { A: '1' } },
      { name: 'web', url: 'https://mcp.example.com/mcp', enabled: false },
      { name: 'nocmd', transport: 'stdio' },
      { name: 'ok', command: 'again' },
      { name: 'badargs', command: 'x', args: [1] },
      'junk',
    ]);
    assert.deepEqual(
      servers.map((s) => [s.name, s.transport, s.enabled]),
      [
        ['ok', 'stdio', true],
        ['web', 'http', false],
      ],
    );
    assert.equal(problems.length, 4);
    assert.match(problems.join('\n'), /"nocmd": a stdio server needs a "command"/);
    assert.match(problems.join('\n'), /"ok": the name is used twice/);
  });

  it('binds consent to what runs: the config hash changes with command, args, env and url, not with enabled', () => {
    const base: McpServerConfig = { name: 's', enabled: true, transport: 'stdio', command: 'node', args: ['a.js'], env: { A: '1', B: '2' } };
    const h = configHash(base);
    assert.equal(configHash({ ...base, enabled: false }), h);
    assert.equal(configHash({ ...base, env: { B: '2', A: '1' } }), h);
    assert.notEqual(configHash({ ...base, command: 'evil' }), h);
    assert.notEqual(configHash({ ...base, args: ['b.js'] }), h);
    assert.notEqual(configHash({ ...base, env: { A: '1', B: '3' } }), h);
    assert.deepEqual(secretRefs({ ...base, env: { T: '${secret:GH_TOKEN}' }, headers: { X: 'a ${secret:OTHER} b' } }), ['GH_TOKEN', 'OTHER']);
  });

  it("imports VS Code's .vscode/mcp.json (comments, trailing commas, variables), noting what it cannot use", () => {
    const text = `{
      // a comment
      "inputs": [{ "type": "promptString", "id": "token", "password": true }],
      "servers": {
        "fs": { "type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "\${workspaceFolder}"], "env": { "HOME_DIR": "\${userHome}", "N": 3 }, },
        "gh": { "type": "http", "url": "https://api.example.com/mcp/", "headers": { "Authorization": "Bearer \${input:token}" } },
        "old": { "type": "sse", "url": "http://localhost:3001/sse" },
        /* block */ "bad": { "type": "stdio" },
        "weird": { "type": "carrier-pigeon" }
      }
    }`;
    const { servers, notes } = parseMcpJson(text, { workspaceFolder: '/w', userHome: '/home/u' });
    assert.deepEqual(
      servers.map((s) => [s.name, s.transport, s.source]),
      [
        ['fs', 'stdio', 'workspace'],
        ['gh', 'http', 'workspace'],
        ['old', 'http', 'workspace'],
      ],
    );
    assert.deepEqual(servers[0]!.args, ['-y', '@modelcontextprotocol/server-filesystem', '/w']);
    assert.deepEqual(servers[0]!.env, { HOME_DIR: '/home/u', N: '3' });
    assert.equal(servers[2]!.sseOnly, true);
    const all = notes.join('\n');
    assert.match(all, /"inputs" are not supported/);
    assert.match(all, /"gh" uses \$\{input:…\} values/);
    assert.match(all, /"bad": no "command"; left out/);
    assert.match(all, /"weird": unknown type "carrier-pigeon"/);
    assert.deepEqual(parseMcpJson('{ nope').servers, []);
    assert.match(parseMcpJson('{ nope').notes[0]!, /not valid JSON/);
  });

  it('formats results: text joined, binary summarised, structured content as JSON, capped', () => {
    const r = formatToolResult(
      {
        content: [
          { type: 'text', text: 'one' },
          { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
          { type: 'resource', resource: { uri: 'file:///a.txt', mimeType: 'text/plain', text: 'inside' } },
          { type: 'resource_link', uri: 'file:///b', name: 'b' },
        ],
      },
      1000,
    );
    assert.equal(r.content, 'one\n[audio: audio/wav, 3 bytes; not shown]\n[resource file:///a.txt (text/plain)]\ninside\n[resource link: file:///b "b"]');
    assert.equal(formatToolResult({ content: [], structuredContent: { n: 1 } }, 100).content, '{"n":1}');
    const capped = formatToolResult({ content: [{ type: 'text', text: 'y'.repeat(50) }], isError: true }, 10);
    assert.equal(capped.truncated, true);
    assert.equal(capped.isError, true);
    assert.match(capped.content, /^y{10}\n\[… truncated: the result had 50 characters; the first 10 are shown\]$/);
  });
});
