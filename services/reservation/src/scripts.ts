/**
 * The Lua scripts of the ledger. Each runs atomically in Redis; the
 * invariants they keep are listed in the README ("Lua scripts' invariants").
 *
 * Node scripts take the 8 keys of one node (KeyLayout.node, all with the
 * `{node}` hash tag) and the due set, the sweeper's index, as the 9th. They
 * read the clock with TIME, so every replica agrees on when a lease lapses,
 * and they sweep the node's expired leases before anything else, so no reply
 * ever counts a lapsed lease. Every node script replies [status, payload,
 * releasedByExpiry[], earliestExpiry, nowMs], and a reply that read the
 * clock has set the node's entry in the due set to that earliest expiry
 * (removed when there is none) in the same script, so the entry is always
 * exact and costs no command of its own.
 *
 * Lease records (the `leases` hash, field = pod uid) are JSON objects whose
 * values are all strings — cjson prints numbers with 14 digits, which would
 * round fencing versions and byte counts:
 *   v  fencing version        e  expiry (ms; the confirmed TTL once confirmed)   t  granted at (ms)
 *   s  "R" reserved / "C" confirmed   q  demand ("cpu=500;pods=1")
 *   h  holder   ns/n  pod namespace/name   g  gang ("namespace/name" or "")
 *   r  times a Reserve returned it as existing (absent until one did)
 *   l  the TTL it was granted with (ms), which a renewal grants again
 *   b  "1" once its holder renewed it right before the Binding, or from its
 *      grant when the Reserve said the holder binds next without renewing
 *      (ReserveRequest.binding): the pod may be bound on this node, so no
 *      Reserve moves it elsewhere (absent until then)
 * Bound pods (the `pods` hash) are {q, v (the lease it settled, or ""), ns, n}.
 */
import { createHash } from 'node:crypto';

/** A script with its SHA1, called by EVALSHA. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
  readonly numberOfKeys: number;
}

function script(name: string, numberOfKeys: number, source: string): LuaScript {
  return { name, source, numberOfKeys, sha: createHash('sha1').update(source).digest('hex') };
}

const common = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Integers as decimal strings; tostring would print 1.7e+15.
local function int(n)
  return string.format('%d', n)
end
`;

const nodePrelude = `${common}
local K_ALLOC, K_BOUND, K_LEASED, K_EXP, K_LEASES, K_PODS, K_FENCE, K_GEN, K_DUE =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
-- The node's name: the hash tag of its keys (node names hold no braces).
local NODE = string.match(K_ALLOC, '{([^{}]*)}:alloc$')

local function each_q(q)
  return string.gmatch(q, '([^;=]+)=(%d+)')
end

-- Adds (sign '') or subtracts (sign '-') a demand to a sum hash; a field that
-- reaches zero is dropped, so an idle node's sums are empty.
local function add_q(key, q, sign)
  for name, amount in each_q(q) do
    if amount ~= '0' and redis.call('HINCRBY', key, name, sign .. amount) == 0 then
      redis.call('HDEL', key, name)
    end
  end
end

-- Takes a lease's capacity out of the sum that holds it and forgets the lease.
local function drop_lease(uid, rec)
  if rec.s == 'R' then
    add_q(K_LEASED, rec.q, '-')
  else
    add_q(K_BOUND, rec.q, '-')
  end
  redis.call('ZREM', K_EXP, uid)
  redis.call('HDEL', K_LEASES, uid)
end

-- Releases the leases whose expiry is at or before now: reserved leases at
-- their TTL, confirmed ones that no bound event settled in time.
local function sweep(now)
  local due = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', int(now), 'LIMIT', 0, 256)
  local released = {}
  for i = 1, #due do
    local raw = redis.call('HGET', K_LEASES, due[i])
    if raw then
      drop_lease(due[i], cjson.decode(raw))
      released[#released + 1] = due[i]
    else
      redis.call('ZREM', K_EXP, due[i])
    end
  end
  return released
end

-- The node's earliest lease expiry ('' if none), written to the due set so
-- the sweeper wakes for this node exactly then.
local function earliest()
  local first = redis.call('ZRANGE', K_EXP, 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', K_DUE, first[2], NODE)
  else
    redis.call('ZREM', K_DUE, NODE)
  end
  return first[2] or ''
end

-- A live reserved lease fences its pod to its holder: another scheduler replica
-- attempting the same pod must not share it, nor move it (its holder may bind at once).
local function held_by_other(rec, holder)
  return holder ~= nil and holder ~= '' and rec.h ~= nil and rec.h ~= '' and rec.h ~= holder
end

-- Gives a reserved lease \`ttl\` ms of life again from now, never shortening it.
-- → whether its expiry moved (the caller writes the record back).
local function extend(uid, rec, now, ttl)
  local until_ms = now + ttl
  if until_ms <= tonumber(rec.e) then return false end
  rec.e = int(until_ms)
  redis.call('ZADD', K_EXP, rec.e, uid)
  return true
end

local function reply(status, payload, released, now)
  return {status, payload or '', released or {}, earliest(), now and int(now) or ''}
end
`;

/**
 * KEYS: the node's 9 (KeyLayout.node), then the restore barrier
 * (KeyLayout.restore, read only), then the pod's index entry
 * (KeyLayout.podIndex), which a grant points at the new lease (ARGV[5]: how
 * long it outlives the lease, ms); a grant's reply carries a 6th element,
 * the node the entry named before ('' if none: the caller releases the
 * pod's lease there, release-and-move). ARGV: uid, demand, ttlMs, base
 * record (JSON of h, ns, n, g, and b "1" when the caller binds next without
 * renewing: a grant is born binding, and an existing reserved lease is
 * marked and renewed, its index entry with it).
 * → granted (the new lease) | existing (same uid, same demand) | mismatch (same
 *   uid, other demand) | held (the pod's live reserved lease is another
 *   holder's) | bound (the pod is already bound here) |
 *   conflict ("name=requested=free;…" of every short resource) |
 *   restoring (the node has room, but Redis lost its data and the replicas
 *   have not all put their leases back: no grant from the rebuilt ledger) |
 *   unknown (no such node).
 */
export const reserveScript = script('reserve', 11, `${nodePrelude}
local uid, q, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', K_ALLOC) == 0 then return {'unknown', '', {}, '', ''} end
local now = now_ms()
local released = sweep(now)
local raw = redis.call('HGET', K_LEASES, uid)
if raw then
  local held = cjson.decode(raw)
  local asked = cjson.decode(ARGV[4])
  if held.s == 'R' and held_by_other(held, asked.h) then return reply('held', raw, released, now) end
  if held.q == q then
    -- Counted, so the call that was granted it and then abandoned by its
    -- caller does not release a lease that this call hands out (see 'returned').
    held.r = int(tonumber(held.r or '0') + 1)
    -- A caller that binds next without renewing counts the lease's life from
    -- this call, as from a grant: marked and renewed, as Renew(binding) would.
    if asked.b == '1' and held.s == 'R' then
      held.b = '1'
      if extend(uid, held, now, tonumber(held.l or ttl)) then
        redis.call('PEXPIRE', KEYS[11], int(tonumber(held.e) - now + tonumber(ARGV[5])))
      end
    end
    local out = cjson.encode(held)
    redis.call('HSET', K_LEASES, uid, out)
    return reply('existing', out, released, now)
  end
  return reply('mismatch', raw, released, now)
end
if redis.call('HEXISTS', K_PODS, uid) == 1 then return reply('bound', '', released, now) end
local short = {}
for name, amount in each_q(q) do
  local free = tonumber(redis.call('HGET', K_ALLOC, name) or '0')
    - tonumber(redis.call('HGET', K_BOUND, name) or '0')
    - tonumber(redis.call('HGET', K_LEASED, name) or '0')
  if tonumber(amount) > free then
    short[#short + 1] = name .. '=' .. amount .. '=' .. int(free)
  end
end
if #short > 0 then return reply('conflict', table.concat(short, ';'), released, now) end
local barrier = redis.call('HMGET', KEYS[10], 'open', 'deadline')
if barrier[1] == '1' and tonumber(barrier[2]) > now then return reply('restoring', '', released, now) end
-- Fencing versions start from the clock (ms * 1000) whenever the counter is
-- missing, so they keep growing across a Redis restart that lost the counter.
if redis.call('EXISTS', K_FENCE) == 0 then redis.call('SET', K_FENCE, int(now * 1000)) end
local rec = cjson.decode(ARGV[4])
rec.v = int(redis.call('INCR', K_FENCE))
rec.e = int(now + ttl)
rec.t = int(now)
rec.l = int(ttl)
rec.s = 'R'
rec.q = q
local out = cjson.encode(rec)
add_q(K_LEASED, q, '')
redis.call('HSET', K_LEASES, uid, out)
redis.call('ZADD', K_EXP, rec.e, uid)
local before = redis.call('SET', KEYS[11], NODE .. ' ' .. rec.v, 'PX', int(ttl + tonumber(ARGV[5])), 'GET')
local granted = reply('granted', out, released, now)
granted[6] = string.match(before or '', '^(%S+)') or ''
return granted
`);

/**
 * ARGV: uid, version ("0" = any), onlyReserved ("1": a Reserve moving the pod
 * to another node — keeps a confirmed lease and a binding one),
 * holder (optional: keeps a reserved lease of another holder),
 * unreturned ("1" keeps a lease that a later Reserve returned as existing).
 * → released | none | stale (other version) | kept (confirmed, onlyReserved) |
 *   binding (its Binding may have landed, onlyReserved) |
 *   held (reserved by another holder) | returned (unreturned, and it was).
 */
export const unreserveScript = script('unreserve', 9, `${nodePrelude}
local uid, version = ARGV[1], ARGV[2]
local now = now_ms()
local released = sweep(now)
local raw = redis.call('HGET', K_LEASES, uid)
if not raw then return reply('none', '', released, now) end
local rec = cjson.decode(raw)
if version ~= '0' and rec.v ~= version then return reply('stale', raw, released, now) end
if ARGV[3] == '1' and rec.s ~= 'R' then return reply('kept', raw, released, now) end
-- The pod may be bound here already (its Binding's answer was lost): moving the
-- lease would free the room of a bound pod until its bound event arrives.
if ARGV[3] == '1' and rec.b == '1' then return reply('binding', raw, released, now) end
if rec.s == 'R' and held_by_other(rec, ARGV[4]) then return reply('held', raw, released, now) end
if ARGV[5] == '1' and rec.r ~= nil then return reply('returned', raw, released, now) end
drop_lease(uid, rec)
return reply('released', raw, released, now)
`);

/**
 * KEYS: the node's 9, then the pod's index entry (KeyLayout.podIndex).
 * ARGV: uid, version ("0" = current), confirmedTtlMs, index TTL (ms: how
 * long the index entry of a confirmed lease is kept). Moves the lease's
 * capacity from leased to bound and gives it the (long) confirmed TTL: the
 * stream's bound event settles it long before, and a lease no bound pod ever
 * settles (a phantom Confirm, a bind that failed after it) does not hold its
 * capacity for ever.
 * → confirmed (also when it already was) | settled (a bound event took it over;
 *   payload is the bound-pod record) | none | stale.
 */
export const confirmScript = script('confirm', 10, `${nodePrelude}
local uid, version = ARGV[1], ARGV[2]
local now = now_ms()
local released = sweep(now)
local raw = redis.call('HGET', K_LEASES, uid)
if not raw then
  local pod = redis.call('HGET', K_PODS, uid)
  if pod then return reply('settled', pod, released, now) end
  return reply('none', '', released, now)
end
local rec = cjson.decode(raw)
if version ~= '0' and rec.v ~= version then return reply('stale', raw, released, now) end
-- Uid-only calls find a confirmed lease through the index as long as it may live.
redis.call('PEXPIRE', KEYS[10], ARGV[4])
if rec.s == 'C' then return reply('confirmed', raw, released, now) end
add_q(K_LEASED, rec.q, '-')
add_q(K_BOUND, rec.q, '')
rec.s = 'C'
rec.e = int(now + tonumber(ARGV[3]))
redis.call('ZADD', K_EXP, rec.e, uid)
local out = cjson.encode(rec)
redis.call('HSET', K_LEASES, uid, out)
return reply('confirmed', out, released, now)
`);

/**
 * KEYS: the node's 9, then the pod's index entry (KeyLayout.podIndex).
 * ARGV: uid, version ("" = the lease the pod holds: the service's own Permit
 * wait), binding ("1": the holder binds next — the lease is marked `b`),
 * index slack (ms: how long the index entry outlives the renewed lease, so
 * uid-only calls such as Confirm still find it).
 * Gives a live reserved lease its TTL again from now (never shortens
 * it): a pod waiting at Permit for its gang, or in PreBind and Bind, keeps its room.
 * → renewed | confirmed (nothing to renew) | settled (the pod's bound event
 *   took the lease over: payload is the bound-pod record) | stale (another
 *   version: the caller's lease lapsed and the pod was granted another) |
 *   none (no live lease).
 */
export const renewScript = script('renew', 10, `${nodePrelude}
local now = now_ms()
local released = sweep(now)
local raw = redis.call('HGET', K_LEASES, ARGV[1])
if not raw then
  local pod = redis.call('HGET', K_PODS, ARGV[1])
  if pod then return reply('settled', pod, released, now) end
  return reply('none', '', released, now)
end
local rec = cjson.decode(raw)
if ARGV[2] ~= nil and ARGV[2] ~= '' and rec.v ~= ARGV[2] then return reply('stale', raw, released, now) end
if rec.s ~= 'R' then return reply('confirmed', raw, released, now) end
if not rec.l then return reply('none', raw, released, now) end
local changed = extend(ARGV[1], rec, now, tonumber(rec.l))
if ARGV[3] == '1' and rec.b ~= '1' then
  rec.b = '1'
  changed = true
end
if changed then
  raw = cjson.encode(rec)
  redis.call('HSET', K_LEASES, ARGV[1], raw)
end
redis.call('PEXPIRE', KEYS[10], int(tonumber(rec.e) - now + tonumber(ARGV[4])))
return reply('renewed', raw, released, now)
`);

/**
 * Puts back a lease that Redis lost (LeaseMemory: this replica handed it out
 * before a restart or failover). ARGV: uid, the lease record (JSON). Counted
 * as it was (reserved: leased; confirmed: bound) whatever the node has free:
 * its pod may be bound already. Skipped if the node holds the pod's lease or
 * its bound record, or the lease has lapsed. The fencing counter is raised to
 * at least the restored version, so no later grant reuses it.
 * → restored | kept | lapsed | unknown (no such node).
 */
export const restoreLeaseScript = script('restore_lease', 9, `${nodePrelude}
if redis.call('EXISTS', K_ALLOC) == 0 then return {'unknown', '', {}, '', ''} end
local now = now_ms()
local released = sweep(now)
local uid = ARGV[1]
if redis.call('HEXISTS', K_LEASES, uid) == 1 or redis.call('HEXISTS', K_PODS, uid) == 1 then return reply('kept', '', released, now) end
local rec = cjson.decode(ARGV[2])
if tonumber(rec.e) <= now then return reply('lapsed', '', released, now) end
if redis.call('EXISTS', K_FENCE) == 0 then redis.call('SET', K_FENCE, int(now * 1000)) end
if tonumber(redis.call('GET', K_FENCE)) < tonumber(rec.v) then redis.call('SET', K_FENCE, rec.v) end
if rec.s == 'R' then add_q(K_LEASED, rec.q, '') else add_q(K_BOUND, rec.q, '') end
redis.call('HSET', K_LEASES, uid, ARGV[2])
redis.call('ZADD', K_EXP, rec.e, uid)
return reply('restored', ARGV[2], released, now)
`);

/**
 * Opens the restore barrier after a Redis loss (KEYS: restore). ARGV: the
 * new Redis run_id, how long it may stay open (ms), then the replicas that
 * must put their leases back (this one first). A barrier of that run_id is
 * left as it is (another replica opened it first, or it was lifted already).
 * The hash outlives its deadline by an hour so a late replica does not open it again.
 * → opened | exists.
 */
export const restoreOpenScript = script('restore_open', 1, `${common}
if redis.call('HGET', KEYS[1], 'run') == ARGV[1] then return 'exists' end
local now = now_ms()
local deadline = now + tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'run', ARGV[1], 'open', '1', 'deadline', int(deadline))
for i = 3, #ARGV do redis.call('HSET', KEYS[1], 'x:' .. ARGV[i], '1') end
redis.call('PEXPIREAT', KEYS[1], deadline + 3600000)
return 'opened'
`);

/**
 * A replica's heartbeat (KEYS: replicas, epoch). ARGV: replica, now (ms), the
 * epoch the replica built on. Written and read only if the epoch is still
 * that one, so a registry read is never one of a Redis that lost its data.
 * → the registry [replica, last seen…] | false (another epoch, or none).
 */
export const heartbeatScript = script('heartbeat', 2, `
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
`);

/**
 * A replica put its leases back (KEYS: restore). ARGV: run_id, replica.
 * Lifts the barrier once every replica it waits for has acknowledged.
 * → [open ("1"/"0", "" = no barrier of that run), replicas still awaited…].
 */
export const restoreAckScript = script('restore_ack', 1, `
if redis.call('HGET', KEYS[1], 'run') ~= ARGV[1] then return {''} end
redis.call('HSET', KEYS[1], 'a:' .. ARGV[2], '1')
local out = {'0'}
local fields = redis.call('HKEYS', KEYS[1])
for i = 1, #fields do
  local id = string.match(fields[i], '^x:(.*)$')
  if id and redis.call('HEXISTS', KEYS[1], 'a:' .. id) == 0 then out[#out + 1] = id end
end
if #out > 1 then out[1] = '1' else redis.call('HSET', KEYS[1], 'open', '0') end
return out
`);

/** ARGV: uid. → lease | settled (bound-pod record) | none. */
export const getScript = script('get', 9, `${nodePrelude}
local now = now_ms()
local released = sweep(now)
local raw = redis.call('HGET', K_LEASES, ARGV[1])
if raw then return reply('lease', raw, released, now) end
local pod = redis.call('HGET', K_PODS, ARGV[1])
if pod then return reply('settled', pod, released, now) end
return reply('none', '', released, now)
`);

/** Sweeps, then → [exists, alloc[], bound[], leased[], fence, nowMs, released[], earliest, leaseCount]. */
export const ledgerScript = script('ledger', 9, `${nodePrelude}
local now = now_ms()
local released = sweep(now)
return {redis.call('EXISTS', K_ALLOC), redis.call('HGETALL', K_ALLOC), redis.call('HGETALL', K_BOUND),
  redis.call('HGETALL', K_LEASED), redis.call('GET', K_FENCE) or '0', int(now), released, earliest(),
  redis.call('HLEN', K_LEASES)}
`);

/** Releases the node's lapsed leases. → swept. */
export const sweepScript = script('sweep', 9, `${nodePrelude}
local now = now_ms()
return reply('swept', '', sweep(now), now)
`);

/**
 * A pod event of the cluster stream. KEYS: the node's 9, then the pod's index
 * entry (KeyLayout.podIndex). ARGV: generation, uid, op ("bind" |
 * "release"), demand, namespace, name. Applied once per node: skipped when the
 * node's ledger already reflects this generation. Any lease of the pod on the
 * node is settled: its capacity leaves leased/bound and the pod's own demand
 * is counted as bound (bind) or nothing is (release); a release also drops
 * the index entry if it names this node.
 * → bound | released | old | nonode, each with a 6th element: the node the
 *   pod's index entry named before ('' if none), where a lease of the pod on
 *   another node would be (the caller releases it).
 */
export const applyPodScript = script('apply_pod', 10, `${nodePrelude}
local indexed = string.match(redis.call('GET', KEYS[10]) or '', '^(%S+)') or ''
local function applied(r)
  r[6] = indexed
  return r
end
if redis.call('EXISTS', K_ALLOC) == 0 then return applied({'nonode', '', {}, '', ''}) end
if tonumber(ARGV[1]) <= tonumber(redis.call('GET', K_GEN) or '0') then return applied({'old', '', {}, '', ''}) end
redis.call('SET', K_GEN, ARGV[1])
local now = now_ms()
local released = sweep(now)
local uid = ARGV[2]
local settled = ''
local raw = redis.call('HGET', K_LEASES, uid)
if raw then
  local rec = cjson.decode(raw)
  settled = rec.v
  drop_lease(uid, rec)
end
local old = redis.call('HGET', K_PODS, uid)
if old then
  local prev = cjson.decode(old)
  if settled == '' then settled = prev.v end
  add_q(K_BOUND, prev.q, '-')
  redis.call('HDEL', K_PODS, uid)
end
if ARGV[3] == 'bind' then
  add_q(K_BOUND, ARGV[4], '')
  redis.call('HSET', K_PODS, uid, cjson.encode({q = ARGV[4], v = settled, ns = ARGV[5], n = ARGV[6]}))
  return applied(reply('bound', raw or '', released, now))
end
if indexed == NODE then redis.call('DEL', KEYS[10]) end
return applied(reply('released', raw or '', released, now))
`);

/**
 * Replaces the stream-derived state of a node: allocatable and bound pods,
 * as of a generation. ARGV: generation, capacity ("" = the node was deleted),
 * pods (JSON [{u, q, ns, n}]), force ("1": whatever generation the ledger
 * holds — a recreated stream starts its sequence again). Otherwise skipped when
 * the ledger already reflects that generation or a later one. Leases survive
 * (a lease of a pod now bound here is settled), and bound/leased are
 * recomputed from scratch.
 * → rebuilt | deleted | old.
 */
export const rebuildNodeScript = script('rebuild_node', 9, `${nodePrelude}
local cur = redis.call('GET', K_GEN)
if ARGV[4] ~= '1' and cur and tonumber(ARGV[1]) <= tonumber(cur) then return {'old', '', {}, '', ''} end
redis.call('SET', K_GEN, ARGV[1])
if ARGV[2] == '' then
  redis.call('DEL', K_ALLOC, K_BOUND, K_LEASED, K_EXP, K_LEASES, K_PODS)
  redis.call('ZREM', K_DUE, NODE)
  return {'deleted', '', {}, '', ''}
end
local now = now_ms()
local released = sweep(now)
redis.call('DEL', K_ALLOC)
for name, amount in each_q(ARGV[2]) do redis.call('HSET', K_ALLOC, name, amount) end
local versions = {}
local flat = redis.call('HGETALL', K_PODS)
for i = 1, #flat, 2 do versions[flat[i]] = cjson.decode(flat[i + 1]).v end
redis.call('DEL', K_PODS, K_BOUND, K_LEASED)
local pods = cjson.decode(ARGV[3])
for i = 1, #pods do
  local p = pods[i]
  local v = versions[p.u] or ''
  local lease = redis.call('HGET', K_LEASES, p.u)
  if lease then
    v = cjson.decode(lease).v
    redis.call('HDEL', K_LEASES, p.u)
    redis.call('ZREM', K_EXP, p.u)
  end
  redis.call('HSET', K_PODS, p.u, cjson.encode({q = p.q, v = v, ns = p.ns, n = p.n}))
  add_q(K_BOUND, p.q, '')
end
local leases = redis.call('HGETALL', K_LEASES)
for i = 1, #leases, 2 do
  local rec = cjson.decode(leases[i + 1])
  if rec.s == 'R' then add_q(K_LEASED, rec.q, '') else add_q(K_BOUND, rec.q, '') end
end
return reply('rebuilt', '', released, now)
`);

/**
 * KEYS: pod index ("<node> <version>"). ARGV: node, version ("" = any version
 * on that node). Deletes the entry only if it still names that lease, so a
 * late delete never removes the pointer to a newer lease.
 */
export const indexDropScript = script('index_drop', 1, `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local prefix = ARGV[1] .. ' '
if v == prefix .. ARGV[2] or (ARGV[2] == '' and string.sub(v, 1, #prefix) == prefix) then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const gangPrelude = `${common}
local K_STATE, K_MEMBERS, K_RELEASED = KEYS[1], KEYS[2], KEYS[3]
local KEEP_MS = 3600000

local function keep(deadline_ms, now)
  local ttl = math.max(deadline_ms - now, 0) + KEEP_MS
  redis.call('PEXPIRE', K_STATE, ttl)
  redis.call('PEXPIRE', K_MEMBERS, ttl)
  redis.call('PEXPIRE', K_RELEASED, ttl)
end

-- The outcome of a round as {status, reason, count}: allowed, rejected or waiting (undecided).
local function outcome(round)
  local o = redis.call('HMGET', K_STATE, 'o:' .. round, 'c:' .. round)
  if not o[1] then return {'waiting', '', '0'} end
  if o[1] == 'allowed' then return {'allowed', '', o[2] or '0'} end
  return {'rejected', string.sub(o[1], 10), o[2] or '0'}
end
`;

/**
 * A member waits at Permit. ARGV: uid, node, minMember, timeoutMs. Starts a
 * round (deadline = now + timeout) unless one is waiting; joins the waiting
 * one only if it has the same minMember and timeout (review M2: without a
 * PodGroup object, the members' annotations must agree).
 * → [waiting, round, deadline, min, now, members[uid, node…], timeoutMs] |
 *   [expired, round, deadline, min, now, [], timeoutMs] (the waiting round is past its deadline) |
 *   [mismatch, round, deadline, min, now, [], timeoutMs] (the waiting round has another min or timeout; not joined).
 */
export const gangJoinScript = script('gang_join', 3, `${gangPrelude}
local now = now_ms()
local st = redis.call('HMGET', K_STATE, 'status', 'round', 'deadline', 'min', 'timeout')
local round = tonumber(st[2] or '0')
if st[1] == 'waiting' and tonumber(st[3]) <= now then
  return {'expired', int(round), st[3], st[4], int(now), {}, st[5] or '0'}
end
if st[1] == 'waiting' and (st[4] ~= ARGV[3] or st[5] ~= ARGV[4]) then
  return {'mismatch', int(round), st[3], st[4], int(now), {}, st[5] or '0'}
end
if st[1] ~= 'waiting' then
  round = round + 1
  redis.call('HSET', K_STATE, 'status', 'waiting', 'round', int(round), 'deadline', int(now + tonumber(ARGV[4])),
    'min', ARGV[3], 'timeout', ARGV[4])
  redis.call('HDEL', K_STATE, 'o:' .. int(round - 16), 'c:' .. int(round - 16))
end
redis.call('HSET', K_MEMBERS, ARGV[1], ARGV[2])
redis.call('SREM', K_RELEASED, ARGV[1])
st = redis.call('HMGET', K_STATE, 'status', 'round', 'deadline', 'min', 'timeout')
keep(tonumber(st[3]), now)
return {'waiting', st[2], st[3], st[4], int(now), redis.call('HGETALL', K_MEMBERS), st[5]}
`);

/** A member took a lease (Reserve with a pod group). ARGV: uid, node. */
export const gangRegisterScript = script('gang_register', 3, `${gangPrelude}
local now = now_ms()
redis.call('HSET', K_MEMBERS, ARGV[1], ARGV[2])
redis.call('SREM', K_RELEASED, ARGV[1])
keep(tonumber(redis.call('HGET', K_STATE, 'deadline') or now), now)
return 1
`);

/** A member no longer holds its lease. ARGV: uid, node (removed only if still that node). */
export const gangDropScript = script('gang_drop', 3, `
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[2], ARGV[1]) end
return 0
`);

/**
 * Ends a waiting round with ALLOW. ARGV: round, members counted.
 * → [allowed|rejected|waiting, reason, count]: the round's outcome, whoever decided it.
 */
export const gangAllowScript = script('gang_allow', 3, `${gangPrelude}
local st = redis.call('HMGET', K_STATE, 'status', 'round')
if st[1] == 'waiting' and st[2] == ARGV[1] then
  redis.call('HSET', K_STATE, 'status', 'allowed', 'o:' .. ARGV[1], 'allowed', 'c:' .. ARGV[1], ARGV[2])
end
return outcome(ARGV[1])
`);

/**
 * Ends a waiting round with REJECT once its deadline passed. ARGV: round
 * ("" = the waiting one), reason, members counted. The round's members are
 * handed back to be released and remembered in `released` (so a late caller
 * learns why).
 * → [rejected, reason, count, members[uid, node…], "1"] when this call decided it;
 *   [allowed|rejected|waiting|none, reason, count, [], "0"] otherwise.
 */
export const gangRejectScript = script('gang_reject', 3, `${gangPrelude}
local now = now_ms()
local st = redis.call('HMGET', K_STATE, 'status', 'round', 'deadline')
local round = ARGV[1] ~= '' and ARGV[1] or st[2]
if not round then return {'none', '', '0', {}, '0'} end
if st[1] ~= 'waiting' or st[2] ~= round or tonumber(st[3]) > now then
  local o = outcome(round)
  return {o[1], o[2], o[3], {}, '0'}
end
redis.call('HSET', K_STATE, 'status', 'rejected', 'reason', ARGV[2], 'o:' .. round, 'rejected:' .. ARGV[2], 'c:' .. round, ARGV[3])
local members = redis.call('HGETALL', K_MEMBERS)
redis.call('DEL', K_MEMBERS, K_RELEASED)
for i = 1, #members, 2 do redis.call('SADD', K_RELEASED, members[i]) end
keep(now, now)
return {'rejected', ARGV[2], ARGV[3], members, '1'}
`);

/**
 * ARGV: round. → [outcome, reason, count, status, current round, deadline, min,
 * timeoutMs, now, members[uid, node…]].
 */
export const gangStatusScript = script('gang_status', 3, `${gangPrelude}
local st = redis.call('HMGET', K_STATE, 'status', 'round', 'deadline', 'min', 'timeout')
local o = outcome(ARGV[1] ~= '' and ARGV[1] or (st[2] or '0'))
return {o[1], o[2], o[3], st[1] or '', st[2] or '0', st[3] or '0', st[4] or '0', st[5] or '0', int(now_ms()),
  redis.call('HGETALL', K_MEMBERS)}
`);

/** Every script, for SCRIPT LOAD at start and after a Redis restart. */
export const allScripts: readonly LuaScript[] = [
  reserveScript,
  renewScript,
  unreserveScript,
  confirmScript,
  getScript,
  ledgerScript,
  sweepScript,
  applyPodScript,
  rebuildNodeScript,
  restoreOpenScript,
  restoreAckScript,
  heartbeatScript,
  indexDropScript,
  gangJoinScript,
  gangRegisterScript,
  gangDropScript,
  gangAllowScript,
  gangRejectScript,
  gangStatusScript,
];
