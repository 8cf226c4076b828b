-- POST /contacts with a distinct phone number in every request.
-- Arguments (after "--"): first phone number (10 digits after +1), source_id, status_id.
local next_thread = 0

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
local base = 0
local source_id = "0"
local status_id = "0"

function init(args)
  -- Each thread gets its own block of ten million numbers.
  base = tonumber(args[1]) + thread_no * 10000000
  source_id = args[2]
  status_id = args[3]
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"firstname":"Bench","lastname":"Load","phone":"+1%.0f","type":"lead",' ..
    '"source_id":%s,"status_id":%s}', base + counter, source_id, status_id)
  return wrk.format("POST", nil, nil, body)
end
