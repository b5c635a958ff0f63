using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Platform;

namespace Portal.Web.Verification.Actions;

public enum ApprovalState
{
    Pending,
    Approved,
    Rejected,
    Used,
}

/// <summary>
/// A request for a second agent's approval of one action on a privileged target (V7). Bound to the
/// verification and the action: the approval is good for exactly that, once, while the verification lives.
/// Holds the caller's pseudonym and masked login only.
/// </summary>
public sealed record ApprovalRequest
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>The verification the request belongs to; empty for a request asked for at look-up, before verifying.</summary>
    public required string VerificationId { get; init; }

    /// <summary>Asked for at look-up, before the caller was verified (docs/tenancy.md, "Approvals").</summary>
    public bool AskedBeforeVerifying => VerificationId.Length == 0;

    public required string Action { get; init; }

    public required string Permission { get; init; }

    public required string RequesterSubject { get; init; }

    public required string RequesterMaskedLogin { get; init; }

    public required string CallerIdHash { get; init; }

    public required string CallerMaskedLogin { get; init; }

    public required ApprovalState State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The ticket the requester gave for the action (sanitised as in the audit record).</summary>
    public string? TicketRef { get; init; }

    /// <summary>How the caller was verified (a method code: see <c>MethodLabels</c>).</summary>
    public string? Method { get; init; }

    public string? DeciderSubject { get; init; }

    public string? DeciderMaskedLogin { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }
}

public enum ApprovalDecisionResult
{
    Decided,
    NotFound,
    NotPending,
    SelfApproval,
}

/// <summary>The approval queue of each tenant, under <c>tenants/{tenantId}/approvals</c>; every check-then-act is one atomic update.</summary>
public sealed class ApprovalStore(IDocumentStore store, TimeProvider clock)
{
    public static CollectionPath Collection(string tenantId) => CollectionPath.ForTenant(tenantId, "approvals");

    /// <summary>How long a request asked for at look-up lasts: time to verify the caller, then to act within that verification.</summary>
    public static readonly TimeSpan AskedAtLookupLifetime = TimeSpan.FromMinutes(30);

    public static string IdFor(VerificationId verificationId, string action) => verificationId.Value + "." + action;

    /// <summary>
    /// The id of the request this agent asked for at look-up for this caller and action. Derived, not random, so the
    /// action finds it without a query once the caller is verified, and asking twice asks once.
    /// </summary>
    public static string IdBeforeVerifying(string requesterSubject, string callerIdHash, string action) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requesterSubject + "\n" + callerIdHash)))[..32] + "." + action;

    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>Creates the request unless one exists for this verification and action; returns the one that is stored.</summary>
    public async Task<ApprovalRequest> RequestAsync(ApprovalRequest request, CancellationToken ct)
    {
        var key = new DocumentKey(Collection(request.TenantId), request.Id);
        if (await store.CreateAsync(key, DocumentJson.ToDocument(request), request.ExpiresAt, ct))
        {
            return request;
        }

        return await GetAsync(request.TenantId, request.Id, ct) ?? request;
    }

    /// <summary>
    /// Asks for an approval at look-up: stores <paramref name="request"/> unless a request under its id is still
    /// pending, approved or rejected and unexpired (a rejection stands until it expires: asking again does not undo
    /// it); a used or expired one is replaced. Returns the request that is stored.
    /// </summary>
    public Task<ApprovalRequest> AskBeforeVerifyingAsync(ApprovalRequest request, CancellationToken ct)
    {
        var now = Now;
        return store.UpdateAsync(new DocumentKey(Collection(request.TenantId), request.Id), current =>
        {
            var existing = current is null ? null : DocumentJson.FromDocument<ApprovalRequest>(current.Data);
            if (existing is not null && existing.State != ApprovalState.Used && now < existing.ExpiresAt)
            {
                return DocumentMutation<ApprovalRequest>.Keep(existing);
            }

            return DocumentMutation<ApprovalRequest>.Write(DocumentJson.ToDocument(request), request.ExpiresAt, request);
        }, ct);
    }

    public async Task<ApprovalRequest?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        if (!IsWellFormedId(id))
        {
            return null;
        }

        var doc = await store.GetAsync(new DocumentKey(Collection(tenantId), id), ct);
        return doc is null ? null : DocumentJson.FromDocument<ApprovalRequest>(doc.Data);
    }

    public async Task<IReadOnlyList<ApprovalRequest>> PendingAsync(string tenantId, CancellationToken ct)
    {
        var query = new DocumentQuery(Collection(tenantId))
        {
            Filters = [new FieldFilter("state", FilterOperator.Equal, "pending")],
            Limit = 100,
        };
        var list = new List<ApprovalRequest>();
        await foreach (var doc in store.QueryAsync(query, ct))
        {
            list.Add(DocumentJson.FromDocument<ApprovalRequest>(doc.Data));
        }

        return [.. list.Where(r => r.ExpiresAt > Now).OrderBy(r => r.CreatedAt)];
    }

    /// <summary>Approves or rejects a pending request; the requester can never decide their own.</summary>
    public Task<(ApprovalDecisionResult Result, ApprovalRequest? Request)> DecideAsync(string tenantId, string id, AgentContext decider, bool approve, CancellationToken ct)
    {
        if (!IsWellFormedId(id))
        {
            return Task.FromResult<(ApprovalDecisionResult, ApprovalRequest?)>((ApprovalDecisionResult.NotFound, null));
        }

        var now = Now;
        return store.UpdateAsync(new DocumentKey(Collection(tenantId), id), current =>
        {
            if (current is null)
            {
                return DocumentMutation<(ApprovalDecisionResult, ApprovalRequest?)>.Keep((ApprovalDecisionResult.NotFound, null));
            }

            var request = DocumentJson.FromDocument<ApprovalRequest>(current.Data);
            if (request.TenantId != tenantId)
            {
                return DocumentMutation<(ApprovalDecisionResult, ApprovalRequest?)>.Keep((ApprovalDecisionResult.NotFound, null));
            }

            if (request.State != ApprovalState.Pending || now >= request.ExpiresAt)
            {
                return DocumentMutation<(ApprovalDecisionResult, ApprovalRequest?)>.Keep((ApprovalDecisionResult.NotPending, request));
            }

            // Four eyes: the same person under another session is still the same person.
            if (request.RequesterSubject == decider.Subject)
            {
                return DocumentMutation<(ApprovalDecisionResult, ApprovalRequest?)>.Keep((ApprovalDecisionResult.SelfApproval, request));
            }

            var decided = request with
            {
                State = approve ? ApprovalState.Approved : ApprovalState.Rejected,
                DeciderSubject = decider.Subject,
                DeciderMaskedLogin = decider.MaskedLogin,
                DecidedAt = now,
            };
            return DocumentMutation<(ApprovalDecisionResult, ApprovalRequest?)>.Write(DocumentJson.ToDocument(decided), current.ExpireAt, (ApprovalDecisionResult.Decided, decided));
        }, ct);
    }

    /// <summary>Uses an approval once: true only for an approved, unused, unexpired approval requested by this agent.</summary>
    public Task<bool> TryUseAsync(string tenantId, string id, string requesterSubject, CancellationToken ct)
    {
        var now = Now;
        return store.UpdateAsync(new DocumentKey(Collection(tenantId), id), current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var request = DocumentJson.FromDocument<ApprovalRequest>(current.Data);
            if (request.TenantId != tenantId || request.RequesterSubject != requesterSubject || request.State != ApprovalState.Approved || now >= request.ExpiresAt)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(request with { State = ApprovalState.Used }), current.ExpireAt, true);
        }, ct);
    }

    private static bool IsWellFormedId(string? id) =>
        id is not null && id.Length is > 33 and < 80 && PortalIds.IsWellFormed(id[..32]) && id[32] == '.' && id[33..].All(c => char.IsAsciiLetterLower(c) || c == '_');
}
