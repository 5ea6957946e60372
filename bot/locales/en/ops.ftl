### Texts of /stats, for the bot's operators.
ops-not_admin = /stats is for the bot's operators only.
ops-none = —
ops-stats =
    📊 <b>Bot statistics</b>
    Users: { $users }
    API keys in use: { $accounts }
    Running activations: { $running }
    Codes delivered today (UTC): { $codes }
    Provider errors: { $rate } ({ $failed } of { $calls } requests, this instance since its start)
    Code delivery, SMS seen → message sent: p50 { $p50 } s, p95 { $p95 } s (last { $samples } codes, this instance)
