// Package txnrpc reaches the load transaction service (fe/txn) of the
// leader frontend from other processes: backends receiving stream loads,
// and frontends that do not lead running INSERTs. Only the leader may
// write etcd (its writes are fenced by its leadership), so only its
// *txn.Manager can begin, commit, publish or abort a transaction.
//
//	backend / follower                          leader frontend
//	sink.Sink ─► Router ─(leading)──► txn.Manager
//	               └────► Client ─rpc─► Register's handlers ─► txn.Manager
//
// # Calls
//
// Unary rpc calls with JSON bodies; the errors are fe/txn's typed errors
// encoded as txn.ErrorCode says (meta.ErrNotLeader as "not_leader"), and
// [FromRPC] turns them back into the errors a local call returns, with the
// same text.
//
//	txn.begin          txn.BeginRequest            → {txn, revision, tables}
//	txn.get            {id}                        → txn.Txn
//	txn.get_by_label   {db_id, label}              → txn.Txn
//	txn.precommit      {id, partitions}            → {}
//	txn.commit         {id, partitions}            → {versions, revision}
//	txn.abort          {id, reason}                → {}
//	txn.publish        {id}                        → {revision}
//
// "partitions" keeps null (the partitions recorded at precommit) apart
// from [] (none). A body that is not a JSON object of the call's shape
// fails with "invalid_argument" naming the call.
//
// # Retries
//
// [Client] sends each call to the leader its Leader func names and retries
// for a bounded time ([Client.RetryFor]) with backoff when retrying is
// safe:
//
//   - not_leader: the process called does not lead. Its write was fenced
//     and did not happen, so every call is retried, after finding the
//     leader again.
//   - unavailable (the rpc package's code for a peer that cannot be
//     reached or went away): the call may or may not have run on the
//     leader. Reads, Precommit and Publish are idempotent in txn.Manager
//     and are simply retried. The others are retried and tell their own
//     earlier attempt apart:
//   - Begin sends a request id (BeginRequest.RequestID, made by the
//     client when the caller gave none), which the manager records in the
//     transaction. A retry whose earlier attempt did begin finds the
//     label taken; the leader's handler then answers with the holder if it
//     is in PREPARE and carries the same request id, since that is the
//     transaction this very call made. A holder in another state, or with
//     another id, is a real *txn.LabelExistsError.
//   - Commit, after an unavailable attempt, takes a *txn.StateError saying
//     the transaction is COMMITTED or VISIBLE as its own commit when the
//     transaction's partitions are the ones it asked for, and answers
//     with the versions recorded.
//   - Abort, after an unavailable attempt, takes a *txn.StateError saying
//     the transaction is already ABORTED with the reason it gave as its own.
//   - Other errors (the manager's typed errors, a bad request, a deadline)
//     are returned at once.
//
// When the budget runs out the last error is returned.
//
// # Catalog
//
// A load reads the table from its own process's catalog after Begin
// (be/sink), so that an index whose alter job took its watershed before
// the transaction's id is written too. Begin therefore waits until the
// local catalog has caught up with the leader's catalog as of the moment
// the id was assigned: until it reaches the leader's snapshot revision,
// or, sooner, until each of the transaction's tables has at least the
// schema version and the indexes the leader's snapshot had (a leader whose
// snapshot comes from its start-up listing has a revision no catalog event
// carries, which a catalog with nothing new to watch would never reach).
// A catalog that does not catch up within [Client.CatalogWait] fails the
// Begin, and the transaction is aborted. Commit and Publish wait the same
// way, for the leader's revision after the call, so that the caller's next
// query sees the versions; there the wait is best effort and never fails
// the call.
package txnrpc
