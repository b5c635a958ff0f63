using Portal.Storage;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>Why a challenge or an action on a caller is refused before anything is sent to the IdP.</summary>
public enum CallerGate
{
    Open,
    CoolingDown,
    Alarm,
    PushLimit,
    TotalFailureLimit,
}

/// <summary>
/// The verification state of every tenant, over the document store. Each check-then-act is one atomic
/// document update, so it holds when two instances race (docs/security-requirements.md V4, V5).
/// </summary>
public sealed class VerificationStore(IDocumentStore store, TimeProvider clock)
{
    /// <summary>V4: never more than 100 failures for one caller, whatever the cool-downs in between.</summary>
    public const int MaxTotalFailures = 100;

    private static readonly TimeSpan CounterLifetime = TimeSpan.FromDays(1);

    public DateTimeOffset Now => clock.GetUtcNow();

    private static DocumentKey PendingKey(string tenantId, string id) => new(CollectionPath.ForTenant(tenantId, "pendingVerifications"), id);

    private static DocumentKey SessionKey(string tenantId, string id) => new(CollectionPath.ForTenant(tenantId, "verificationSessions"), id);

    private static DocumentKey CounterKey(string tenantId, string callerIdHash) => new(CollectionPath.ForTenant(tenantId, "callerCounters"), callerIdHash);

    private static DocumentKey TotpUseKey(string tenantId, string useHash) => new(CollectionPath.ForTenant(tenantId, "totpUses"), useHash);

    private static DocumentKey IdentityVerificationUseKey(string tenantId, string useHash) => new(CollectionPath.ForTenant(tenantId, "idvUses"), useHash);

    public async Task CreatePendingAsync(PendingVerification pending, CancellationToken cancellationToken)
    {
        // Kept ten minutes past its expiry so that the agent's page can still show how it ended.
        var created = await store.CreateAsync(PendingKey(pending.TenantId, pending.Id), DocumentJson.ToDocument(pending), pending.ExpiresAt.AddMinutes(10), cancellationToken);
        if (!created)
        {
            throw new InvalidOperationException("A pending verification id collided.");
        }
    }

    public async Task<PendingVerification?> GetPendingAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        if (!PortalIds.IsWellFormed(id))
        {
            return null;
        }

        var doc = await store.GetAsync(PendingKey(tenantId, id), cancellationToken);
        return doc is null ? null : DocumentJson.FromDocument<PendingVerification>(doc.Data);
    }

    /// <summary>At most one IdP poll per pending push in this time, however many tabs or instances poll it.</summary>
    public static readonly TimeSpan PushPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Claims the next IdP poll of a waiting push: true for exactly one caller per <see cref="PushPollInterval"/>
    /// across every instance (an atomic update of the pending document); false when another poll is recent, or
    /// the push is no longer waiting. A caller who has the document already checks its time first, so most
    /// polls cost a read and no transaction.
    /// </summary>
    public Task<bool> TryClaimPushPollAsync(string tenantId, string id, CancellationToken cancellationToken) =>
        TryClaimPollAsync(tenantId, id, PushPollInterval, cancellationToken);

    /// <summary>
    /// Claims the next IdP read of a waiting challenge: true for exactly one caller per <paramref name="interval"/>
    /// across every instance, however many tabs poll it or press "Check now" (an atomic update of the pending document).
    /// </summary>
    public Task<bool> TryClaimPollAsync(string tenantId, string id, TimeSpan interval, CancellationToken cancellationToken) =>
        store.UpdateAsync(PendingKey(tenantId, id), current =>
        {
            var now = clock.GetUtcNow();
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var pending = DocumentJson.FromDocument<PendingVerification>(current.Data);
            if (pending.State != ChallengeState.Waiting || (pending.LastPolledAt is { } last && now - last < interval && now >= last))
            {
                return DocumentMutation<bool>.Keep(false);
            }

            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(pending with { LastPolledAt = now }), current.ExpireAt, true);
        }, cancellationToken);

    /// <summary>Moves a waiting challenge to its final state; only the first caller wins (the others get null).</summary>
    public Task<PendingVerification?> CompletePendingAsync(string tenantId, string id, ChallengeState state, string? verificationSessionId, CancellationToken cancellationToken, string? failureReason = null) =>
        store.UpdateAsync(PendingKey(tenantId, id), current =>
        {
            if (current is null)
            {
                return DocumentMutation<PendingVerification?>.Keep(null);
            }

            var pending = DocumentJson.FromDocument<PendingVerification>(current.Data);
            if (pending.State != ChallengeState.Waiting)
            {
                return DocumentMutation<PendingVerification?>.Keep(null);
            }

            // The number to pick, or a call-back code's hash, is worthless once the challenge has ended, and is not kept past it.
            var done = pending with { State = state, VerificationSessionId = verificationSessionId, FailureReason = failureReason, CorrectAnswer = 0, AnswerHash = null, WorkPhoneHash = null };
            return DocumentMutation<PendingVerification?>.Write(DocumentJson.ToDocument(done), current.ExpireAt, done);
        }, cancellationToken);

    /// <summary>
    /// Gives an ended challenge a later reason (a call-back's "they did not call us" heard after it ended), once: null
    /// when it is not ended, or already carries <paramref name="reason"/>.
    /// </summary>
    public Task<PendingVerification?> ReasonAfterEndAsync(string tenantId, string id, string reason, CancellationToken cancellationToken) =>
        store.UpdateAsync(PendingKey(tenantId, id), current =>
        {
            var pending = current is null ? null : DocumentJson.FromDocument<PendingVerification>(current.Data);
            if (pending is null || pending.State == ChallengeState.Waiting || pending.FailureReason == reason)
            {
                return DocumentMutation<PendingVerification?>.Keep(null);
            }

            var reported = pending with { FailureReason = reason };
            return DocumentMutation<PendingVerification?>.Write(DocumentJson.ToDocument(reported), current!.ExpireAt, reported);
        }, cancellationToken);

    public async Task CreateSessionAsync(VerificationSession session, CancellationToken cancellationToken)
    {
        if (!await store.CreateAsync(SessionKey(session.TenantId, session.Id), DocumentJson.ToDocument(session), session.ExpiresAt, cancellationToken))
        {
            throw new InvalidOperationException("A verification session id collided.");
        }
    }

    public async Task<VerificationSession?> GetSessionAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        if (!PortalIds.IsWellFormed(id))
        {
            return null;
        }

        var doc = await store.GetAsync(SessionKey(tenantId, id), cancellationToken);
        return doc is null ? null : DocumentJson.FromDocument<VerificationSession>(doc.Data);
    }

    /// <summary>
    /// Consumes <paramref name="action"/> of a verification atomically: it succeeds once per verification,
    /// for the agent session and caller it is bound to, before it expires (V5).
    /// </summary>
    public Task<(ConsumeResult Result, VerificationSession? Session)> ConsumeAsync(string tenantId, string id, string agentSessionId, string agentSubject, string action, CancellationToken cancellationToken) =>
        ConsumeAsync(tenantId, id, agentSessionId, agentSubject, action, ticketRef: null, cancellationToken);

    /// <summary>As <see cref="ConsumeAsync(string, string, string, string, string, CancellationToken)"/>; the first ticket reference given becomes the verification's.</summary>
    public Task<(ConsumeResult Result, VerificationSession? Session)> ConsumeAsync(string tenantId, string id, string agentSessionId, string agentSubject, string action, string? ticketRef, CancellationToken cancellationToken)
    {
        if (!PortalIds.IsWellFormed(id))
        {
            return Task.FromResult<(ConsumeResult, VerificationSession?)>((ConsumeResult.NotFound, null));
        }

        var now = Now;
        return store.UpdateAsync(SessionKey(tenantId, id), current =>
        {
            if (current is null)
            {
                return DocumentMutation<(ConsumeResult, VerificationSession?)>.Keep((ConsumeResult.NotFound, null));
            }

            var session = DocumentJson.FromDocument<VerificationSession>(current.Data);
            if (session.TenantId != tenantId || session.AgentSessionId != agentSessionId || session.AgentSubject != agentSubject)
            {
                return DocumentMutation<(ConsumeResult, VerificationSession?)>.Keep((ConsumeResult.NotFound, null));
            }

            if (now >= session.ExpiresAt)
            {
                return DocumentMutation<(ConsumeResult, VerificationSession?)>.Keep((ConsumeResult.Expired, session));
            }

            if (session.UsedActions.Contains(action))
            {
                return DocumentMutation<(ConsumeResult, VerificationSession?)>.Keep((ConsumeResult.AlreadyUsed, session));
            }

            var used = session with { UsedActions = [.. session.UsedActions, action], TicketRef = session.TicketRef ?? ticketRef };
            return DocumentMutation<(ConsumeResult, VerificationSession?)>.Write(DocumentJson.ToDocument(used), current.ExpireAt, (ConsumeResult.Consumed, used));
        }, cancellationToken);
    }

    /// <summary>Adds how an action ended to its verification, for the call summary. Nothing when the verification is gone.</summary>
    public Task RecordDoneAsync(string tenantId, string id, ActionDone done, CancellationToken cancellationToken) =>
        store.UpdateAsync(SessionKey(tenantId, id), current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var session = DocumentJson.FromDocument<VerificationSession>(current.Data);
            var updated = session with { Done = [.. session.Done, done] };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(updated), current.ExpireAt, true);
        }, cancellationToken);

    /// <summary>Ends every verification of an agent session (sign-out).</summary>
    public async Task EndSessionsOfAgentSessionAsync(string tenantId, string agentSessionId, CancellationToken cancellationToken)
    {
        var query = new DocumentQuery(CollectionPath.ForTenant(tenantId, "verificationSessions"))
        {
            Filters = [new FieldFilter("agentSessionId", FilterOperator.Equal, agentSessionId)],
        };
        var keys = new List<DocumentKey>();
        await foreach (var doc in store.QueryAsync(query, cancellationToken))
        {
            keys.Add(doc.Key);
        }

        foreach (var key in keys)
        {
            await store.DeleteAsync(key, cancellationToken);
        }
    }

    /// <summary>
    /// Records that an IdP's identity-verification result (by a keyed hash of its event id) verified a caller; false
    /// when it already verified one: one pass at the IdP verifies one verification, never two agents' at once.
    /// </summary>
    public Task<bool> TryUseIdentityVerificationAsync(string tenantId, string useHash, CancellationToken cancellationToken) =>
        // A result counts only inside the twenty minutes of the verification that started before it; a day covers it.
        store.CreateAsync(IdentityVerificationUseKey(tenantId, useHash), [], Now.AddDays(1), cancellationToken);

    /// <summary>
    /// Takes the caller's one place for a waiting ID verification (docs/recovery.md) for <paramref name="pendingId"/>
    /// until <paramref name="until"/>, in one atomic update of the caller's counters; false while another ID
    /// verification of the caller is still waiting (one check of the real holder at the IdP would satisfy both). A place
    /// held by one that has ended (verified, failed, timed out) is taken over, unless someone took it meanwhile.
    /// </summary>
    public async Task<bool> TryHoldIdentityVerificationAsync(string tenantId, string callerIdHash, string pendingId, DateTimeOffset until, CancellationToken cancellationToken)
    {
        string? ended = null;
        for (var round = 0; round < 3; round++)
        {
            var now = Now;
            var expected = ended;
            var holder = await store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
            {
                var counters = current is null ? new CallerCounters() : DocumentJson.FromDocument<CallerCounters>(current.Data);
                if (counters.IdvWaitingId is { } held && counters.IdvWaitingUntil > now && held != expected)
                {
                    return DocumentMutation<string?>.Keep(held);
                }

                var updated = counters with { IdvWaitingId = pendingId, IdvWaitingUntil = until };
                return DocumentMutation<string?>.Write(DocumentJson.ToDocument(updated), Expiry(updated, now), null);
            }, cancellationToken);
            if (holder is null)
            {
                return true;
            }

            var other = await GetPendingAsync(tenantId, holder, cancellationToken);
            if (other is { State: ChallengeState.Waiting } && other.ExpiresAt > Now)
            {
                return false;
            }

            ended = holder;
        }

        return false;
    }

    /// <summary>Records that a TOTP code was presented for a caller; false when it was presented before (V3).</summary>
    public Task<bool> TryUseTotpAsync(string tenantId, string useHash, CancellationToken cancellationToken) =>
        // A code is valid for at most three 30-second steps (one of drift each way); five minutes covers it.
        store.CreateAsync(TotpUseKey(tenantId, useHash), [], Now.AddMinutes(5), cancellationToken);

    public async Task<CallerGate> CheckGateAsync(string tenantId, string callerIdHash, bool forAction, CancellationToken cancellationToken)
    {
        var doc = await store.GetAsync(CounterKey(tenantId, callerIdHash), cancellationToken);
        return doc is null ? CallerGate.Open : GateOf(DocumentJson.FromDocument<CallerCounters>(doc.Data), Now, forAction);
    }

    /// <summary>
    /// Reserves one attempt before anything is sent to the IdP (V4): in one atomic update of the caller's
    /// counter document the gate is checked and the attempt is charged as a failure (in a row and in total,
    /// starting the cool-down when it reaches the limit; for a push also against the push limit). So however
    /// many requests race on however many instances, no more attempts reach the IdP than the policy allows.
    /// The charge is refunded when the attempt succeeds or the IdP could not judge it (<see cref="RefundAsync"/>).
    /// </summary>
    public Task<(CallerGate Gate, string? ReservationId)> TryReserveAttemptAsync(string tenantId, string callerIdHash, bool isPush, VerificationPolicySettings policy, CancellationToken cancellationToken) =>
        ReserveAsync(tenantId, callerIdHash, isPush, charge: true, policy, cancellationToken);

    /// <summary>
    /// Takes a place in the push limit of someone whose device gets a push for another person's verification (a
    /// manager asked to approve a report's recovery), after the same gate check, in one atomic update; no attempt is
    /// charged to them, as it is not theirs to fail. Open when the push may be sent.
    /// </summary>
    public async Task<CallerGate> TryTakePushAsync(string tenantId, string personIdHash, VerificationPolicySettings policy, CancellationToken cancellationToken) =>
        (await ReserveAsync(tenantId, personIdHash, isPush: true, charge: false, policy, cancellationToken)).Gate;

    private Task<(CallerGate Gate, string? ReservationId)> ReserveAsync(string tenantId, string callerIdHash, bool isPush, bool charge, VerificationPolicySettings policy, CancellationToken cancellationToken)
    {
        var now = Now;
        var reservationId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        return store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
        {
            var counters = current is null ? new CallerCounters() : DocumentJson.FromDocument<CallerCounters>(current.Data);
            var gate = GateOf(counters, now, forAction: false);
            if (gate != CallerGate.Open)
            {
                return DocumentMutation<(CallerGate, string?)>.Keep((gate, null));
            }

            var updated = counters;
            if (isPush)
            {
                var windowStart = now.AddMinutes(-policy.PushWindowMinutes);
                var recent = counters.RecentPushes.Where(t => t > windowStart).ToList();
                if (recent.Count >= policy.MaxPushesPerWindow)
                {
                    return DocumentMutation<(CallerGate, string?)>.Keep((CallerGate.PushLimit, null));
                }

                recent.Add(now);
                updated = updated with { RecentPushes = recent };
            }

            if (!charge)
            {
                return DocumentMutation<(CallerGate, string?)>.Write(DocumentJson.ToDocument(updated), Expiry(updated, now), (CallerGate.Open, null));
            }

            updated = Charge(updated, now, policy, reservationId);
            return DocumentMutation<(CallerGate, string?)>.Write(DocumentJson.ToDocument(updated), Expiry(updated, now), (CallerGate.Open, reservationId));
        }, cancellationToken);
    }

    /// <summary>
    /// Gives back a reserved attempt: after a success the row of failures is over; after an answer the IdP could
    /// not give (outage, refusal) the attempt did not happen. A success lifts a cool-down that its own charge started.
    /// </summary>
    public Task RefundAsync(string tenantId, string callerIdHash, string reservationId, bool succeeded, CancellationToken cancellationToken)
    {
        var now = Now;
        return store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(true);
            }

            var counters = DocumentJson.FromDocument<CallerCounters>(current.Data);

            // Only a success lifts the cool-down its own charge started; after an IdP error it stays (fail closed).
            var lift = succeeded && counters.CooldownStartedBy == reservationId;
            var updated = counters with
            {
                TotalFailures = Math.Max(0, counters.TotalFailures - 1),
                FailuresInRow = succeeded ? 0 : Math.Max(0, counters.FailuresInRow - 1),
                CooldownUntil = lift ? null : counters.CooldownUntil,
                CooldownStartedBy = lift ? null : counters.CooldownStartedBy,
            };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(updated), current.ExpireAt ?? now + CounterLifetime, true);
        }, cancellationToken);
    }

    /// <summary>Counts a failed attempt that was not reserved (a challenge stored by an earlier version during a rolling deployment); the <c>MaxFailuresBeforeCooldown</c>-th in a row starts a cool-down. An alarm also blocks actions.</summary>
    public Task RecordFailureAsync(string tenantId, string callerIdHash, bool alarm, VerificationPolicySettings policy, CancellationToken cancellationToken)
    {
        var now = Now;
        return store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
        {
            var counters = current is null ? new CallerCounters() : DocumentJson.FromDocument<CallerCounters>(current.Data);
            var updated = Charge(counters, now, policy, null);
            if (alarm)
            {
                updated = updated with { AlarmUntil = now.AddMinutes(policy.AlarmCooldownMinutes) };
            }

            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(updated), Expiry(updated, now), true);
        }, cancellationToken);
    }

    /// <summary>A reserved attempt ended in a rejection: it is already counted; the alarm (V6) blocks the caller.</summary>
    public Task RaiseAlarmAsync(string tenantId, string callerIdHash, VerificationPolicySettings policy, CancellationToken cancellationToken)
    {
        var now = Now;
        return store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
        {
            var counters = current is null ? new CallerCounters() : DocumentJson.FromDocument<CallerCounters>(current.Data);
            var updated = counters with { AlarmUntil = now.AddMinutes(policy.AlarmCooldownMinutes) };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(updated), Expiry(updated, now), true);
        }, cancellationToken);
    }

    public Task RecordSuccessAsync(string tenantId, string callerIdHash, CancellationToken cancellationToken)
    {
        var now = Now;
        return store.UpdateAsync(CounterKey(tenantId, callerIdHash), current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(true);
            }

            var counters = DocumentJson.FromDocument<CallerCounters>(current.Data) with { FailuresInRow = 0 };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(counters), current.ExpireAt ?? now + CounterLifetime, true);
        }, cancellationToken);
    }

    private static CallerCounters Charge(CallerCounters counters, DateTimeOffset now, VerificationPolicySettings policy, string? reservationId)
    {
        var inRow = counters.FailuresInRow + 1;
        var updated = counters with { FailuresInRow = inRow, TotalFailures = counters.TotalFailures + 1 };
        return inRow >= policy.MaxFailuresBeforeCooldown
            ? updated with { FailuresInRow = 0, CooldownUntil = now.AddMinutes(policy.CooldownMinutes), CooldownStartedBy = reservationId }
            : updated;
    }

    private static DateTimeOffset Expiry(CallerCounters counters, DateTimeOffset now) =>
        Max(now + CounterLifetime, counters.AlarmUntil ?? now, counters.CooldownUntil ?? now);

    private static CallerGate GateOf(CallerCounters counters, DateTimeOffset now, bool forAction)
    {
        if (counters.AlarmUntil > now)
        {
            return CallerGate.Alarm;
        }

        if (counters.TotalFailures >= MaxTotalFailures)
        {
            return CallerGate.TotalFailureLimit;
        }

        return !forAction && counters.CooldownUntil > now ? CallerGate.CoolingDown : CallerGate.Open;
    }

    private static DateTimeOffset Max(params DateTimeOffset[] values) => values.Max();
}

public enum ConsumeResult
{
    Consumed,
    NotFound,
    Expired,
    AlreadyUsed,
}
