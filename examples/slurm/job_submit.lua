--[[
job_submit.lua: lets users keep sbatch while ebb picks the green window.

Install it next to slurm.conf, set JobSubmitPlugins=lua there and run
`scontrol reconfigure` (see docs/slurm.md). A job that asks for ebb with
its comment

    sbatch --comment=ebb:max-delay=12h job.sh
    sbatch --comment=ebb:deadline=2026-12-01T06:00,duration=2h job.sh

or that is submitted to the partition named in EBB_PARTITION below, is
deferred: its begin time is set to the latest start it allows (now +
max-delay, or deadline - duration), else to now + DEFAULT_DELAY. ebbd
(a Slurm site with adopt: true) finds it in the queue, plans it with
everything else and moves its begin time to the greenest window
(scontrol update StartTime=...). If ebbd is down the job still starts by
the time the user allowed: ebb never makes a job later than its limit.

Keys: max-delay=DUR, deadline=TIME (YYYY-MM-DDTHH:MM[:SS], local time),
duration=DUR, policy=NAME. DUR is a number with s, m, h or d. Bad keys are
refused at submission with a message sbatch prints.
--]]

local DEFAULT_DELAY = 24 * 3600   -- s, when the job gives no limit
local EBB_PARTITION = nil         -- e.g. "green": every job there is ebb's

local function duration(v)
   local n, unit = string.match(v, "^(%d+)([smhd]?)$")
   if n == nil then return nil end
   local mult = { [""] = 1, s = 1, m = 60, h = 3600, d = 86400 }
   return tonumber(n) * mult[unit]
end

local function timestamp(v)
   local y, mo, d, h, mi, s = string.match(v,
       "^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):?(%d*)$")
   if y == nil then return nil end
   return os.time({ year = tonumber(y), month = tonumber(mo),
       day = tonumber(d), hour = tonumber(h), min = tonumber(mi),
       sec = tonumber(s) or 0 })
end

-- Parses "ebb:k=v,k=v"; returns a table or nil and a message.
local function options(comment)
   local opts = {}
   local body = string.sub(comment, 5)
   for kv in string.gmatch(body, "[^, ]+") do
      local k, v = string.match(kv, "^([%w-]+)=(.+)$")
      if k == nil then
         return nil, "ebb: '" .. kv .. "' is not KEY=VALUE"
      end
      if k == "max-delay" or k == "duration" then
         opts[k] = duration(v)
         if opts[k] == nil then
            return nil, "ebb: " .. k .. ": '" .. v .. "' is not a duration (like 90m or 12h)"
         end
      elseif k == "deadline" then
         opts[k] = timestamp(v)
         if opts[k] == nil then
            return nil, "ebb: deadline: '" .. v .. "' is not YYYY-MM-DDTHH:MM[:SS]"
         end
      elseif k == "policy" then
         opts[k] = v
      else
         return nil, "ebb: unknown key '" .. k .. "' (known: max-delay, deadline, duration, policy)"
      end
   end
   return opts
end

function slurm_job_submit(job_desc, part_list, submit_uid)
   local c = job_desc.comment
   local wants = c ~= nil and string.sub(c, 1, 4) == "ebb:"
   if not wants and EBB_PARTITION ~= nil and
      job_desc.partition == EBB_PARTITION then
      wants = true
      c = "ebb:"
      job_desc.comment = c
   end
   if not wants then
      return slurm.SUCCESS
   end
   local opts, err = options(c)
   if opts == nil then
      slurm.log_user("%s", err)
      return slurm.ERROR
   end
   local now = os.time()
   local latest = now + DEFAULT_DELAY
   if opts["max-delay"] ~= nil then
      latest = now + opts["max-delay"]
   end
   if opts["deadline"] ~= nil then
      local d = opts["deadline"] - (opts["duration"] or 0)
      if d < latest then latest = d end
   end
   if latest < now then latest = now end
   -- A --begin later than that is kept (ebb may still move the job).
   if job_desc.begin_time ~= nil and job_desc.begin_time > latest then
      latest = job_desc.begin_time
   end
   job_desc.begin_time = latest
   slurm.log_user("ebb: waiting for a green window; starts by %s at the latest",
      os.date("%Y-%m-%dT%H:%M:%S", latest))
   return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
   return slurm.SUCCESS
end

return slurm.SUCCESS
