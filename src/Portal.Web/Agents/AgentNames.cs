using System.Collections.Concurrent;
using Portal.Idp;
using Portal.Web.Tenancy;

namespace Portal.Web.Agents;

/// <summary>An agent as the tenant's IdP names them: for the screen only.</summary>
public sealed record AgentName(string Name, string Login);

/// <summary>
/// Tells agents apart on the audit pages and in the header: the agent's IdP subject id, which audit records and
/// sessions keep, is resolved to the agent's name and login at the tenant's IdP when a page is drawn (Okta users by
/// id; Entra users by object id). Names are kept in this instance's memory for <see cref="Lifetime"/> so that a page
/// of fifty records costs at most one IdP read per distinct agent, and never in the store or a log
/// (docs/security-decisions.md "Agents told apart, by name, at view time"). An id the IdP cannot name, or an IdP
/// that does not answer in time, leaves the masked login the record keeps.
/// </summary>
public sealed class AgentNames(TenantDirectories directories, TimeProvider clock)
{
    /// <summary>How long a name read from the IdP is reused: a renamed or removed agent shows within this time.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>How long an audit page waits for the IdP before it shows masked logins instead.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(3);

    /// <summary>How long the header waits: every page draws it, so an IdP outage must not slow every page down.</summary>
    public static readonly TimeSpan HeaderBudget = TimeSpan.FromMilliseconds(800);

    /// <summary>After the IdP failed or was too slow to name an agent, masked logins are shown for this long without asking again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private const int MaxEntries = 5_000;
    private const int MaxPerPage = 100;
    private const int Parallel = 4;

    private readonly ConcurrentDictionary<(string TenantId, string Subject), (AgentName? Name, DateTimeOffset Until)> _names = new();

    /// <summary>The names of <paramref name="subjects"/> that the IdP knows; a subject it does not is absent from the answer.</summary>
    public Task<IReadOnlyDictionary<string, AgentName>> ResolveAsync(TenantSettings tenant, IEnumerable<string> subjects, CancellationToken cancellationToken) =>
        ResolveAsync(tenant, subjects, Budget, cancellationToken);

    private async Task<IReadOnlyDictionary<string, AgentName>> ResolveAsync(TenantSettings tenant, IEnumerable<string> subjects, TimeSpan wait, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var wanted = subjects.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).Take(MaxPerPage).ToList();
        var names = new ConcurrentDictionary<string, AgentName>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var subject in wanted)
        {
            if (_names.TryGetValue((tenant.Id, subject), out var known) && known.Until > now)
            {
                if (known.Name is not null)
                {
                    names[subject] = known.Name;
                }
            }
            else
            {
                missing.Add(subject);
            }
        }

        if (missing.Count == 0)
        {
            return names;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(wait);
        var directory = directories.For(tenant);
        try
        {
            await System.Threading.Tasks.Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = budget.Token }, async (subject, ct) =>
            {
                var read = await directory.GetCallerAsync(subject, ct);
                if (read.IsSuccess)
                {
                    var name = new AgentName(read.Value.Details.DisplayName ?? read.Value.Login, read.Value.Login);
                    names[subject] = name;
                    Remember(tenant.Id, subject, name, Lifetime);
                }
                else
                {
                    // Not a user of the IdP (an API key, a removed agent) or not readable with the portal's credential:
                    // not asked again for a while; an IdP error is asked again sooner.
                    Remember(tenant.Id, subject, null, read.Error.Kind is IdpErrorKind.NotFound or IdpErrorKind.Invalid or IdpErrorKind.AccessDenied ? Lifetime : RetryAfter);
                }
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Out of time: what was read is shown, the rest keep their masked logins and are not asked for again at once.
            foreach (var subject in missing.Where(m => !names.ContainsKey(m)))
            {
                Remember(tenant.Id, subject, null, RetryAfter);
            }
        }

        return names;
    }

    /// <summary>The signed-in agent's own name for the header; null when the IdP cannot say.</summary>
    public async Task<AgentName?> OfAsync(TenantSettings tenant, AgentContext agent, CancellationToken cancellationToken) =>
        (await ResolveAsync(tenant, [agent.Subject], HeaderBudget, cancellationToken)).GetValueOrDefault(agent.Subject);

    private void Remember(string tenantId, string subject, AgentName? name, TimeSpan lifetime)
    {
        if (_names.Count >= MaxEntries)
        {
            _names.Clear();
        }

        _names[(tenantId, subject)] = (name, clock.GetUtcNow() + lifetime);
    }
}
