/**
 * The Lua scripts behind every write (and the sliding-TTL read). Each one runs
 * atomically on the node owning the session's hash slot, so an operation is
 * one round trip and never half-applied. Every script takes the session's four
 * keys in the same order: items, meta, ops, opQueue (see keys.ts); the pop
 * and append scripts of a store without a ttl take only items and meta (all
 * they touch, and the fewer arguments are part of their cost).
 *
 * Shared ARGV conventions: `now` is the client's clock in epoch ms (the same
 * clock `prune({ olderThan })` is given in); `ttl` is the store's ttl in ms,
 * 0 for none; `epoch` (every write script's third argument) is a fresh
 * `newEpoch()` made by the client (a script must not make randomness).
 *
 * Epochs (readChanges): meta field `e` names the session's current run of
 * appends. A write that is not an append, or that finds the session
 * without items, sets it to the new epoch it was given; any other append
 * keeps it.
 * Deleting the keys (clear, prune, expiry) deletes it, so a session written
 * again gets a new one.
 */

// Sets updated-at and the epoch, then refreshes the expiry of every key given
// (all four whenever ttl > 0) so they expire as one. A session that had no
// items starts anew: created-at and the epoch are set (as MemoryStore does).
// Otherwise the epoch is set when the write renews it (`renew`: not an
// append); an append keeps it.
const TOUCH = `
local function touch(was_empty, now, ttl, epoch, renew)
  if was_empty then
    redis.call('HSET', KEYS[2], 'c', now, 'u', now, 'e', epoch)
  elseif renew then
    redis.call('HSET', KEYS[2], 'u', now, 'e', epoch)
  else
    redis.call('HSET', KEYS[2], 'u', now)
  end
  if ttl > 0 then
    for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
  end
end
`;

// RPUSH in chunks: Lua's unpack is limited by the C stack (~8000 values).
const PUSH = `
local function push(first, last)
  for i = first, last, 1000 do
    redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, last)))
  end
end
`;

/**
 * `parses(s)`: true only for text JSON.parse certainly accepts, so a pop may
 * remove it without the client looking first. Being stricter than JSON.parse
 * is safe (the client then decides, see popItem); being laxer would let a pop
 * delete an item the codec rejects.
 *
 * cjson (C) checks the grammar. What it accepts beyond JSON.parse is all
 * lexical: raw control bytes inside strings (and a NUL, where its input
 * ends), and number spellings (0x1F, 01, 1., -.5, +1, inf, nan). So one walk
 * covers every byte outside cjson's reach: punctuation and plain strings are
 * consumed by anchored patterns (no byte below 0x20, no '"' or '\' inside a
 * string's run), escapes are skipped pairwise (cjson checked them), numbers
 * must have JSON's form, and only true/false/null may be spelt with letters.
 * Any other byte is refused, so are tabs and newlines between tokens (JSON.parse
 * would take those; the encoder never writes them). Anchored patterns each
 * cover a whole run: the walk costs one find per string, not a step per byte.
 * Exported for the benchmark's raw baseline with the same guarantee.
 */
export const JSON_CHECK = `
local function parses(s)
  if not pcall(cjson.decode, s) then return false end
  local find, byte, sub = string.find, string.byte, string.sub
  local i, n, _, e, c = 1, #s
  while true do
    _, e = find(s, '^[{}%[%],: ]*"[]-\\255 !#-[]*"', i)
    while e do
      i = e + 1
      _, e = find(s, '^[{}%[%],: ]*"[]-\\255 !#-[]*"', i)
    end
    _, e = find(s, '^[{}%[%],: ]*', i)
    i = e + 1
    if i > n then return true end
    c = byte(s, i)
    if c == 34 then
      i = i + 1
      while true do
        _, e = find(s, '^[]-\\255 !#-[]*', i)
        i = e + 1
        c = byte(s, i)
        if c == 34 then break end
        if c ~= 92 then return false end
        i = i + 2
      end
      i = i + 1
    elseif c == 45 or (c >= 48 and c <= 57) then
      local first = i
      if c == 45 then first = i + 1 end
      _, e = find(s, '^%d+', first)
      if not e or (e > first and byte(s, first) == 48) then return false end
      i = e + 1
      c = byte(s, i)
      if c == 46 then
        _, e = find(s, '^%d+', i + 1)
        if not e then return false end
        i = e + 1
        c = byte(s, i)
      end
      if c == 101 or c == 69 then
        _, e = find(s, '^[+-]?%d+', i + 1)
        if not e then return false end
        i = e + 1
      end
    elseif (c == 116 and sub(s, i, i + 3) == 'true') or (c == 110 and sub(s, i, i + 3) == 'null') then
      i = i + 4
    elseif c == 102 and sub(s, i, i + 4) == 'false' then
      i = i + 5
    else
      return false
    end
  end
end
`;

/**
 * ARGV: now, ttl, epoch, expected, item... → new length; `expected` -1 for none.
 * A conditional append whose `expected` is not the current length writes
 * nothing and returns -(length + 1), so the client can name the mismatch.
 * An append keeps the session's epoch (see TOUCH).
 */
export const APPEND = `${TOUCH}${PUSH}
local length = redis.call('LLEN', KEYS[1])
local expected = tonumber(ARGV[4])
if expected >= 0 and length ~= expected then return -(length + 1) end
push(5, #ARGV)
touch(length == 0, ARGV[1], tonumber(ARGV[2]), ARGV[3], false)
return length + #ARGV - 4
`;

/**
 * ARGV: now, ttl, epoch → nil (empty), the item (popped), or {item} (left in place
 * because the check could not vouch for it; the client decodes it and, only
 * if the codec accepts it, removes it with POP_IF_TAIL). A popped item comes
 * back as a plain bulk string: the common reply costs the client no array.
 */
export const POP = `${TOUCH}${JSON_CHECK}
local item = redis.call('LINDEX', KEYS[1], -1)
if not item then return nil end
if not parses(item) then return {item} end
redis.call('RPOP', KEYS[1])
touch(false, ARGV[1], tonumber(ARGV[2]), ARGV[3], true)
return item
`;

/** ARGV: now, ttl, epoch, expected → 1 if the newest item was exactly `expected` and is now removed, else 0. */
export const POP_IF_TAIL = `${TOUCH}
if redis.call('LINDEX', KEYS[1], -1) ~= ARGV[4] then return 0 end
redis.call('RPOP', KEYS[1])
touch(false, ARGV[1], tonumber(ARGV[2]), ARGV[3], true)
return 1
`;

/**
 * ARGV: now, ttl, epoch, logSize, operationId, fingerprint, expectedLength (-1: none), n, expected_1..n, replacement...
 *
 * The expected suffix is compared byte for byte. The client first sends the
 * caller's items as the codec encodes them (insertion key order), which is
 * the stored text whenever the items were written by sessionkit or read back
 * from it; on a mismatch (say, the same items with keys in another order)
 * the script returns the stored suffix, the client compares canonical forms
 * itself, and if they match sends the stored bytes back as the expected
 * suffix: a compare-and-swap on exact content.
 *
 * A non-empty expected suffix (replace_suffix) renews the epoch; an append keeps it.
 *
 * → {'ok'} applied; {'done'} same operation already applied; {'reused'}
 *   operation id used by another transaction; {'length'} the item count is
 *   not expectedLength; {'short'} fewer items than the suffix; {'tail', {stored suffix}} bytes differ, client decides.
 */
export const TRANSACTION = `${TOUCH}${PUSH}
local op, fingerprint = ARGV[5], ARGV[6]
local previous = redis.call('HGET', KEYS[3], op)
if previous then
  if previous == fingerprint then return {'done'} end
  return {'reused'}
end
local n = tonumber(ARGV[8])
local len = redis.call('LLEN', KEYS[1])
local want = tonumber(ARGV[7])
if want >= 0 and want ~= len then return {'length'} end
if n > len then return {'short'} end
if n > 0 then
  local tail = redis.call('LRANGE', KEYS[1], len - n, -1)
  for i = 1, n do
    if tail[i] ~= ARGV[8 + i] then return {'tail', tail} end
  end
  if len == n then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], 0, len - n - 1) end
end
push(9 + n, #ARGV)
redis.call('HSET', KEYS[3], op, fingerprint)
redis.call('RPUSH', KEYS[4], op)
local excess = redis.call('LLEN', KEYS[4]) - tonumber(ARGV[4])
if excess > 0 then
  local old = redis.call('LPOP', KEYS[4], excess)
  for i = 1, #old, 1000 do
    redis.call('HDEL', KEYS[3], unpack(old, i, math.min(i + 999, #old)))
  end
end
touch(len == 0, ARGV[1], tonumber(ARGV[2]), ARGV[3], n > 0)
return {'ok'}
`;

/**
 * ARGV: now, ttl, epoch, item... → new length. Swaps the whole list in one step (a
 * reader sees the old history or the new one, never an empty or partial
 * one); the operation log is left as it is, created-at is kept unless the
 * session had no items, the epoch is renewed, and meta/expiry are refreshed
 * as every write does.
 */
export const REPLACE = `${TOUCH}${PUSH}
local was_empty = redis.call('LLEN', KEYS[1]) == 0
redis.call('DEL', KEYS[1])
push(4, #ARGV)
touch(was_empty, ARGV[1], tonumber(ARGV[2]), ARGV[3], true)
return redis.call('LLEN', KEYS[1])
`;

/** ARGV: none → nil when the session has no items, else {count, createdAt, updatedAt, pttl}. */
export const INFO = `
local count = redis.call('LLEN', KEYS[1])
if count == 0 then return nil end
local meta = redis.call('HMGET', KEYS[2], 'c', 'u')
return {count, meta[1] or '', meta[2] or '', redis.call('PTTL', KEYS[1])}
`;

/** ARGV: start, ttl → items from `start` (0 or -limit) to the newest, with every key's expiry refreshed. */
export const READ_SLIDING = `
local items = redis.call('LRANGE', KEYS[1], ARGV[1], -1)
if #items > 0 then
  local ttl = tonumber(ARGV[2])
  for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ttl) end
end
return items
`;

/**
 * KEYS: items, meta, and (only with a sliding ttl, to refresh their expiry
 * as getItems does) ops, opQueue. ARGV: since epoch, since length (-1: no
 * since), ttl to refresh (0: none) → {epoch ('' for none), length, whole (0
 * or 1), items}.
 *
 * Not whole when the session's epoch is `since`'s and it holds at least
 * `since.length` items: then only the newest `length - since.length` items,
 * read from the tail (a negative LRANGE start: O(new items), whatever the
 * history).
 */
export const READ_CHANGES = `
local len = redis.call('LLEN', KEYS[1])
local epoch = redis.call('HGET', KEYS[2], 'e') or ''
local since = tonumber(ARGV[2])
local whole, items = 1, nil
if since >= 0 and since <= len and epoch == ARGV[1] and (epoch ~= '' or len == 0) then
  whole = 0
  if since < len then items = redis.call('LRANGE', KEYS[1], since - len, -1) else items = {} end
elseif len > 0 then
  items = redis.call('LRANGE', KEYS[1], 0, -1)
else
  items = {}
end
local ttl = tonumber(ARGV[3])
if ttl > 0 and len > 0 then
  for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
end
return {epoch, len, whole, items}
`;

/**
 * ARGV: cutoff → -1 when the session was written at or after the cutoff (or
 * has no meta, which our writes never leave: it is not ours to judge), else
 * deletes every key and returns 1 if it had items, 0 if it was empty. The
 * re-check makes prune safe against a write racing the scan.
 */
export const PRUNE = `
local updated = tonumber(redis.call('HGET', KEYS[2], 'u'))
if not updated or updated >= tonumber(ARGV[1]) then return -1 end
local had = redis.call('LLEN', KEYS[1]) > 0
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
if had then return 1 end
return 0
`;
