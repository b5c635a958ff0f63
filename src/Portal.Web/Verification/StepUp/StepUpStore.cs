using System.Security.Cryptography;
using System.Text;
using Portal.Storage;

namespace Portal.Web.Verification.StepUp;

/// <summary>
/// The one-time link a caller opens (<c>stepUpLinks/{SHA-256 of the link token}</c>). The link arrives without a
/// tenant or a session, so it is found by the hash of its token alone; the token itself is never stored.
/// </summary>
public sealed record StepUpLink
{
    public required string TenantId { get; init; }

    public required string PendingId { get; init; }

    /// <summary>Keyed hash of the short code the agent reads out.</summary>
    public required string CodeHash { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public int WrongCodes { get; init; }

    /// <summary>Set by the first right code: from then on the link is spent.</summary>
    public bool Used { get; init; }
}

/// <summary>
/// A caller's sign-in under way (<c>stepUpFlows/{SHA-256 of state}</c>): what the callback needs to check the
/// answer (nonce, PKCE verifier, which browser started it). Taken, and so spent, by the first callback.
/// </summary>
public sealed record StepUpFlow
{
    public required string TenantId { get; init; }

    public required string PendingId { get; init; }

    public required string Nonce { get; init; }

    /// <summary>The PKCE verifier, encrypted with Data Protection.</summary>
    public required string VerifierProtected { get; init; }

    /// <summary>SHA-256 of the random value in the caller's browser cookie: the callback must come from that browser.</summary>
    public required string BrowserHash { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }
}

public enum LinkOpening
{
    Opened,
    Unknown,
    Expired,
    AlreadyUsed,
    WrongCode,
    TooManyWrongCodes,
}

/// <summary>Step-up links and flows over the document store; each check-then-act is one atomic update.</summary>
public sealed class StepUpStore(IDocumentStore store, TimeProvider clock)
{
    /// <summary>Wrong short codes on one link before it is burnt: the code has about 40 bits, guessing gets 5 tries.</summary>
    public const int MaxWrongCodes = 5;

    private static readonly CollectionPath Links = new("stepUpLinks");
    private static readonly CollectionPath Flows = new("stepUpFlows");

    public DateTimeOffset Now => clock.GetUtcNow();

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public async Task CreateLinkAsync(string token, StepUpLink link, CancellationToken ct)
    {
        if (!await store.CreateAsync(new DocumentKey(Links, Hash(token)), DocumentJson.ToDocument(link), link.ExpiresAt.AddMinutes(10), ct))
        {
            throw new InvalidOperationException("A step-up link collided.");
        }
    }

    public async Task<StepUpLink?> GetLinkAsync(string token, CancellationToken ct)
    {
        if (!IsWellFormedToken(token))
        {
            return null;
        }

        var doc = await store.GetAsync(new DocumentKey(Links, Hash(token)), ct);
        return doc is null ? null : DocumentJson.FromDocument<StepUpLink>(doc.Data);
    }

    /// <summary>Spends the link with the right code, or counts a wrong one. Only one opening ever succeeds (V5).</summary>
    public Task<(LinkOpening Result, StepUpLink? Link)> OpenAsync(string token, Func<StepUpLink, bool> codeMatches, CancellationToken ct)
    {
        if (!IsWellFormedToken(token))
        {
            return Task.FromResult<(LinkOpening, StepUpLink?)>((LinkOpening.Unknown, null));
        }

        var now = Now;
        return store.UpdateAsync(new DocumentKey(Links, Hash(token)), current =>
        {
            if (current is null)
            {
                return DocumentMutation<(LinkOpening, StepUpLink?)>.Keep((LinkOpening.Unknown, null));
            }

            var link = DocumentJson.FromDocument<StepUpLink>(current.Data);
            if (link.Used || link.WrongCodes >= MaxWrongCodes)
            {
                return DocumentMutation<(LinkOpening, StepUpLink?)>.Keep((LinkOpening.AlreadyUsed, link));
            }

            if (now >= link.ExpiresAt)
            {
                return DocumentMutation<(LinkOpening, StepUpLink?)>.Keep((LinkOpening.Expired, link));
            }

            if (codeMatches(link))
            {
                var used = link with { Used = true };
                return DocumentMutation<(LinkOpening, StepUpLink?)>.Write(DocumentJson.ToDocument(used), current.ExpireAt, (LinkOpening.Opened, used));
            }

            var counted = link with { WrongCodes = link.WrongCodes + 1 };
            var result = counted.WrongCodes >= MaxWrongCodes ? LinkOpening.TooManyWrongCodes : LinkOpening.WrongCode;
            return DocumentMutation<(LinkOpening, StepUpLink?)>.Write(DocumentJson.ToDocument(counted), current.ExpireAt, (result, counted));
        }, ct);
    }

    public async Task CreateFlowAsync(string state, StepUpFlow flow, CancellationToken ct)
    {
        if (!await store.CreateAsync(new DocumentKey(Flows, Hash(state)), DocumentJson.ToDocument(flow), flow.ExpiresAt, ct))
        {
            throw new InvalidOperationException("A step-up state collided.");
        }
    }

    /// <summary>Reads a flow without spending it (the page that sends the browser on to the IdP); null once taken or expired.</summary>
    public async Task<StepUpFlow?> GetFlowAsync(string? state, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(state) || !IsWellFormedToken(state))
        {
            return null;
        }

        var doc = await store.GetAsync(new DocumentKey(Flows, Hash(state)), ct);
        var flow = doc is null ? null : DocumentJson.FromDocument<StepUpFlow>(doc.Data);
        return flow is not null && Now < flow.ExpiresAt ? flow : null;
    }

    /// <summary>Takes the flow a callback's <c>state</c> names, deleting it: a replayed callback finds nothing.</summary>
    public Task<StepUpFlow?> TakeFlowAsync(string? state, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(state) || !IsWellFormedToken(state))
        {
            return Task.FromResult<StepUpFlow?>(null);
        }

        var now = Now;
        return store.UpdateAsync(new DocumentKey(Flows, Hash(state)), current =>
        {
            if (current is null)
            {
                return DocumentMutation<StepUpFlow?>.Keep(null);
            }

            var flow = DocumentJson.FromDocument<StepUpFlow>(current.Data);
            return DocumentMutation<StepUpFlow?>.Delete(now < flow.ExpiresAt ? flow : null);
        }, ct);
    }

    /// <summary>Base64url of 32 random bytes (256 bits).</summary>
    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool IsWellFormedToken(string token) =>
        token.Length == 43 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
