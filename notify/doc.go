// Package notify tells people about runs that need them: a run a guard
// blocked, a run that failed, and a run forced past its guard.
//
// A Notifier posts each such run to its webhooks, as generic JSON or as a
// Slack-compatible message, off the caller's path: Notify only queues. A
// delivery that fails (a network error, 429 or 5xx) is retried with
// exponential backoff, honouring Retry-After; a 4xx other than 408 and 429
// is final. A webhook URL is a secret: logs name the webhook, never its
// URL. When a webhook's queue is full the notification is dropped and
// logged, so that a dead receiver never holds up a reconcile.
package notify
