using Portal.Web.Agents;

namespace Portal.Web.Verification.Recovery;

/// <summary>
/// Keeps a call-back's one-time code in the starting agent's browser, never on the server (<see cref="BrowserHandover"/>),
/// scoped to that call-back's page and living as long as it: the agent's page can be reloaded and still show the code
/// to read out, while the server keeps only its keyed hash (docs/recovery.md).
/// </summary>
public sealed class CallBackHandover(BrowserHandover handover)
{
    private const string Purpose = "callback-show";

    public void Keep(HttpResponse response, AgentContext agent, string pendingId, string code, DateTimeOffset expiresAt) =>
        handover.Keep(response, Purpose, agent, PagePath(pendingId), new Shown(code), expiresAt);

    /// <summary>The code of this call-back, when the request carries it for this agent session; else null.</summary>
    public string? Read(HttpRequest request, AgentContext agent, string pendingId) =>
        handover.Read<Shown>(request, Purpose, agent, PagePath(pendingId))?.Code;

    /// <summary>Removes the code from the browser once the call-back has ended: there is nothing left to read out.</summary>
    public void Forget(HttpResponse response, string pendingId) => handover.Forget(response, Purpose, PagePath(pendingId));

    private static string PagePath(string pendingId) => "/verification/pending/" + pendingId;

    private sealed record Shown(string Code)
    {
        public override string ToString() => "Shown { [redacted] }";
    }
}
