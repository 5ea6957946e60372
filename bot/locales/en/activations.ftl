### Texts of activation cards and code messages.
act-title = { $service } · { $country }
act-number = Number: <code>{ $phone }</code>
act-price = Price: { $price }
act-times_left = cancel in { $cancel_in } · { $left }
act-ends_at = ends at { $ends_at }
act-left-minutes = { $minutes } min left
act-left-under_minute = less than a minute left
act-left-over = time is up
act-codes = Code: { $codes }
act-codes_many = Codes: { $codes }
act-buyer = Bought by { $buyer }
act-will_cancel_in = ⏰ I will cancel it in { $cancel_in } unless a code comes first.
act-will_cancel_now = ⏰ Cancelling it now, as you asked.
act-state-waiting = ⏳ Waiting for the SMS…
act-state-resend = ⏳ Waiting: the service should re-send the SMS
act-state-received = ✅ Code received
act-state-retry = ⏳ Waiting for another code…
act-state-completed = ☑️ Completed
act-state-cancelled = ✖ Cancelled, { $price } refunded
act-state-expired = ⌛ Ended with no code, { $price } refunded
act-state-cancel_unconfirmed = ⌛ No code came in time. KoalaSMS has not confirmed the cancel yet; I keep trying and will tell you the outcome.
act-state-provider_cancelled = ✖ Cancelled by the provider
act-btn-copy_number = 📋 Copy number
act-btn-copy_code = 📋 Copy code
act-btn-cancel = ✖ Cancel
act-btn-another = 🔁 Another code
act-btn-complete = ✅ Complete
act-btn-again = 🛒 Buy again
act-code_msg =
    🔑 <b>{ $service }</b> · <code>{ $phone }</code>
    Code: <code>{ $code }</code>
act-sms_text = <blockquote>{ $text }</blockquote>

## answers to button presses and notices
act-refunded = Cancelled. { $price } refunded.
act-cancel_scheduled_in = Too early to cancel: the provider allows it in { $cancel_in }. I will cancel then, unless a code comes first.
act-cancel_has_code = A code already came, so it can't be cancelled. Press Complete.
act-already_final = This activation is already over.
act-not_found = This activation is not in my records.
act-retry_ok = Waiting for another code.
act-retry_unavailable = This number can't receive another code.
act-completed = Completed.
act-no_code_yet = No code yet: nothing to complete.
act-failed = KoalaSMS refused: { $text }. Nothing changed.
act-transient = KoalaSMS is not answering. Nothing changed; try again in a moment.
act-notice-expired = ⌛ { $service } · <code>{ $phone }</code>: no code came in time. I cancelled it and { $price } was refunded.
act-notice-expired_unconfirmed = ⌛ { $service } · <code>{ $phone }</code> ended with no code. Your stored key could not be read, so I could not ask KoalaSMS to confirm; it refunds numbers that get no code. Send /key to set the key again.
act-notice-cancelled = ✖ { $service } · <code>{ $phone }</code> cancelled as you asked; { $price } refunded.
act-notice-cancel_dropped = A code came before the cancel time, so I kept the number.
act-notice-provider_cancelled = ✖ { $service } · <code>{ $phone }</code> was cancelled by the provider.
act-active_none = No running activations. Send /buy to get a number.
act-active_header = Running activations: { $count }
act-list-entry =
    { $n }. <b>{ $service }</b> { $flag } <code>{ $phone }</code>
    {"    "}{ $status }
act-list-waiting = ⏳ waiting for the SMS
act-list-cancel_in = cancel in { $cancel_in }
act-list-has_code = ✅ code received
act-list-cancelling = ⌛ cancel not confirmed yet, retrying
act-list-more = …and { $count } more, which end later.
act-list-hint = Press a number to bring its card here.
act-btn-show = { $n }. { $service } { $phone }
act-card_moved = { $service } · <code>{ $phone }</code>: this card moved further down ↓
act-shown_over = This activation is over; its card is up to date.

## The provider no longer knows an activation (NO_ACTIVATION): never "refunded".
act-state-unknown = ❔ Ended on KoalaSMS's side; no refund confirmed
act-gone_completed = KoalaSMS had already completed this activation, so nothing was cancelled or refunded. Its code is in the chat.
act-gone_unknown = KoalaSMS no longer knows this activation, so nothing was cancelled and I can't confirm a refund. Check /balance.
act-notice-completed_by_provider = ☑️ { $service } · <code>{ $phone }</code> was completed on KoalaSMS's side; its code is above. Nothing was refunded.
act-notice-unknown = ❔ { $service } · <code>{ $phone }</code>: KoalaSMS no longer knows this activation and shows no code for it. I can't confirm a refund of { $price }: check /balance (KoalaSMS refunds numbers that get no code).
act-notice-expired_elsewhere = ⌛ { $service } · <code>{ $phone }</code>: no code came in time. KoalaSMS had already ended it and { $price } was refunded.
act-sms_in_file = 📄 The SMS is too long for one message: the whole of it is in the file below.
act-sms_file_caption = Full SMS text
act-code_plain = 🔑 Code: <code>{ $code }</code>
