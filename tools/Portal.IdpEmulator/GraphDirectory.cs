using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator;

/// <summary>An authentication method of a demo Entra user, as Graph lists it.</summary>
public sealed class EntraMethod
{
    internal EntraMethod(string id, string odataType, DateTimeOffset created)
    {
        Id = id;
        ODataType = odataType;
        Created = created;
    }

    public string Id { get; }

    /// <summary>Graph's <c>@odata.type</c> without the <c>#microsoft.graph.</c> prefix, e.g. <c>microsoftAuthenticatorAuthenticationMethod</c>.</summary>
    public string ODataType { get; }

    internal DateTimeOffset Created { get; }

    internal int? LifetimeInMinutes { get; init; }

    internal bool IsUsableOnce { get; init; }
}

/// <summary>
/// A directory role held by a demo Entra user, as <c>roleManagement/directory</c> reports it: active
/// (<c>roleAssignments</c>) or PIM-eligible (<c>roleEligibilitySchedules</c>), at a scope (<c>/</c> or an
/// administrative unit), held directly or through a role-assignable group (then the principal is the group).
/// </summary>
public sealed record EntraRoleGrant(string RoleDefinitionId, string RoleName, string DirectoryScopeId, bool Eligible, string PrincipalId, bool IsBuiltIn = true);

/// <summary>A group of the demo Entra directory; <see cref="IsAssignableToRole"/> marks a role-assignable group.</summary>
public sealed record EntraGroup(string Id, string DisplayName, bool IsAssignableToRole);

/// <summary>A user of the demo Entra directory, with counters of what the portal did to them.</summary>
public sealed class EntraUser
{
    private readonly List<EntraMethod> _methods = [];
    private int _temporaryAccessPassesIssued;
    private int _sessionsRevoked;
    private int _passwordResets;
    private int _methodsDeleted;
    private bool? _lastForceChange;

    private string? _defaultMethodId;

    internal EntraUser(string id, string userPrincipalName, string mail, string displayName, bool isGlobalAdmin)
    {
        Id = id;
        UserPrincipalName = userPrincipalName;
        Mail = mail;
        DisplayName = displayName;
        IsGlobalAdmin = isGlobalAdmin;
    }

    /// <summary>The object id (a GUID).</summary>
    public string Id { get; }

    public string UserPrincipalName { get; }

    public string Mail { get; }

    public string DisplayName { get; }

    public bool AccountEnabled { get; set; } = true;

    /// <summary>Graph's <c>jobTitle</c>; null: not set.</summary>
    public string? JobTitle { get; init; }

    /// <summary>Graph's <c>department</c>; null: not set.</summary>
    public string? Department { get; init; }

    /// <summary>The display name of the user's manager (<c>/users/{id}/manager</c>), a user or a contact; null: no manager.</summary>
    public string? ManagerName { get; internal set; }

    /// <summary>The object id of the user's manager, a user of this directory; null: none, or a contact (<see cref="ManagerIsContact"/>).</summary>
    public string? ManagerId { get; internal set; }

    /// <summary>The manager is an organisational contact, not a user: Graph answers it as an <c>orgContact</c>.</summary>
    public bool ManagerIsContact { get; internal set; }

    /// <summary>Graph's <c>businessPhones</c> (the work phone on file, fictitious 555-01xx numbers only); empty: none.</summary>
    public IReadOnlyList<string> BusinessPhones { get; init; } = [];

    /// <summary>Graph's <c>lastPasswordChangeDateTime</c>.</summary>
    public DateTimeOffset LastPasswordChange { get; init; }

    /// <summary>Holds the Global Administrator role: Graph refuses to reset its password or issue it a TAP (403).</summary>
    public bool IsGlobalAdmin { get; }

    /// <summary>
    /// Synced from on-premises Active Directory (<c>onPremisesSyncEnabled</c>): Graph refuses a cloud password
    /// change (there is no password writeback through <c>passwordProfile</c>).
    /// </summary>
    public bool OnPremisesSyncEnabled { get; init; }

    /// <summary>The groups the user belongs to, directly or through nesting (<c>transitiveMemberOf</c>).</summary>
    public IReadOnlyList<EntraGroup> Groups { get; internal set; } = [];

    /// <summary>The user's default MFA method (an id of <see cref="Methods"/>); null when none is left.</summary>
    public string? DefaultMethodId
    {
        get
        {
            lock (_methods)
            {
                return _defaultMethodId;
            }
        }
    }

    public int TemporaryAccessPassesIssued => Volatile.Read(ref _temporaryAccessPassesIssued);

    public int SessionsRevoked => Volatile.Read(ref _sessionsRevoked);

    public int PasswordResets => Volatile.Read(ref _passwordResets);

    public int MethodsDeleted => Volatile.Read(ref _methodsDeleted);

    /// <summary><c>passwordProfile.forceChangePasswordNextSignIn</c> of the last password reset; null before any.</summary>
    public bool? LastForceChangePasswordNextSignIn
    {
        get
        {
            lock (_methods)
            {
                return _lastForceChange;
            }
        }
    }

    /// <summary>A snapshot of the registered methods (the password method included).</summary>
    public IReadOnlyList<EntraMethod> Methods
    {
        get
        {
            lock (_methods)
            {
                return [.. _methods];
            }
        }
    }

    /// <summary>The seed of the user's authenticator app (Microsoft Authenticator or an OATH app), for the step-up sign-in; null when they have none.</summary>
    internal byte[]? TotpSecret { get; init; }

    /// <summary>The last TOTP step accepted at the step-up sign-in, so that a code cannot be used twice.</summary>
    internal long LastUsedStep { get; set; } = long.MinValue;

    internal void AddMethod(EntraMethod method, bool isDefault = false)
    {
        lock (_methods)
        {
            _methods.Add(method);
            if (isDefault)
            {
                _defaultMethodId = method.Id;
            }
        }
    }

    /// <summary>A new TAP replaces the old one, as Graph does.</summary>
    internal void ReplaceTemporaryAccessPass(EntraMethod tap)
    {
        lock (_methods)
        {
            _methods.RemoveAll(m => m.ODataType == GraphDirectory.TapType);
            _methods.Add(tap);
        }

        Interlocked.Increment(ref _temporaryAccessPassesIssued);
    }

    internal MethodRemoval RemoveMethod(string odataType, string methodId)
    {
        lock (_methods)
        {
            var method = _methods.Find(m => m.ODataType == odataType && string.Equals(m.Id, methodId, StringComparison.OrdinalIgnoreCase));
            if (method is null)
            {
                return MethodRemoval.NotFound;
            }

            // Graph: the default method goes last; while another MFA method remains it must be changed first.
            var isDefault = string.Equals(method.Id, _defaultMethodId, StringComparison.OrdinalIgnoreCase);
            if (isDefault && _methods.Any(m => m != method && m.ODataType is not ("passwordAuthenticationMethod" or GraphDirectory.TapType)))
            {
                return MethodRemoval.IsDefault;
            }

            _methods.Remove(method);
            if (isDefault)
            {
                _defaultMethodId = null;
            }
        }

        Interlocked.Increment(ref _methodsDeleted);
        return MethodRemoval.Removed;
    }

    internal void CountSessionsRevoked() => Interlocked.Increment(ref _sessionsRevoked);

    internal void CountPasswordReset(bool forceChange)
    {
        lock (_methods)
        {
            _lastForceChange = forceChange;
        }

        Interlocked.Increment(ref _passwordResets);
    }
}

internal enum MethodRemoval
{
    Removed,
    NotFound,
    IsDefault,
}

/// <summary>The demo Entra directory served by the Graph subset: users, their methods, and the app tokens issued.</summary>
internal sealed class GraphDirectory
{
    internal const string PasswordMethodId = "28c10230-6103-485e-b985-444c60001490";
    internal const string TapType = "temporaryAccessPassAuthenticationMethod";
    internal static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(3599);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly List<EntraUser> _users = [];
    private readonly Dictionary<string, (DateTimeOffset Expires, IReadOnlyList<string> Roles, string ClientId)> _tokens = new(StringComparer.Ordinal);
    private readonly List<EntraRoleGrant> _roleGrants = [];

    public GraphDirectory(TimeProvider time)
    {
        _time = time;
        Seed();
    }

    public IReadOnlyList<EntraUser> Users
    {
        get
        {
            lock (_gate)
            {
                return [.. _users];
            }
        }
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Every role assignment and eligibility of the directory (users' and role-assignable groups').</summary>
    public IReadOnlyList<EntraRoleGrant> RoleGrants
    {
        get
        {
            lock (_gate)
            {
                return [.. _roleGrants];
            }
        }
    }

    public EntraUser? FindByUpn(string upn)
    {
        lock (_gate)
        {
            return _users.Find(u => string.Equals(u.UserPrincipalName, upn, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Graph addresses a user by object id or by UPN in the same path segment.</summary>
    public EntraUser? FindByIdOrUpn(string idOrUpn)
    {
        lock (_gate)
        {
            return _users.Find(u => string.Equals(u.Id, idOrUpn, StringComparison.OrdinalIgnoreCase))
                ?? _users.Find(u => string.Equals(u.UserPrincipalName, idOrUpn, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The user's manager when it is a user of this directory; null when there is none or it is a contact.</summary>
    public EntraUser? ManagerOf(EntraUser user) => user.ManagerId is { } id ? FindByIdOrUpn(id) : null;

    /// <summary>Adds a user of a test's own: the Microsoft Authenticator method, or a phone method only.</summary>
    public EntraUser Add(string upn, string displayName, bool authenticator, string? businessPhone)
    {
        lock (_gate)
        {
            if (_users.Exists(u => string.Equals(u.UserPrincipalName, upn, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException("An Entra user with that user principal name already exists.");
            }

            return AddUser(upn, displayName, false, [authenticator ? "microsoftAuthenticatorAuthenticationMethod" : "phoneAuthenticationMethod"], phones: businessPhone is null ? [] : [businessPhone]);
        }
    }

    /// <summary>Adds groups to the user's memberships, after the ones they have.</summary>
    public void AddToGroups(string upn, IEnumerable<EntraGroup> groups)
    {
        var user = FindByUpn(upn) ?? throw new ArgumentException("No such Entra user.", nameof(upn));
        lock (_gate)
        {
            user.Groups = [.. user.Groups, .. groups];
        }
    }

    public void SetManager(string upn, string? managerUpn)
    {
        var user = FindByUpn(upn) ?? throw new ArgumentException("No such Entra user.", nameof(upn));
        var manager = managerUpn is null ? null : FindByUpn(managerUpn) ?? throw new ArgumentException("No such Entra user.", nameof(managerUpn));
        lock (_gate)
        {
            user.ManagerId = manager?.Id;
            user.ManagerName = manager?.DisplayName;
            user.ManagerIsContact = false;
        }
    }

    public void SetManagerContact(string upn, string contactName)
    {
        var user = FindByUpn(upn) ?? throw new ArgumentException("No such Entra user.", nameof(upn));
        lock (_gate)
        {
            user.ManagerId = null;
            user.ManagerName = contactName;
            user.ManagerIsContact = true;
        }
    }

    /// <summary>The tenant's Temporary Access Pass policy, as Graph's authentication methods policy serves it.</summary>
    public TapPolicySettings TapPolicy { get; set; } = new();

    /// <summary>
    /// An app-only access token shaped as Entra's v1 Graph tokens are: a JWT whose <c>roles</c> claim lists the app's
    /// application permissions (absent when none is granted), <c>idtyp</c> = app, <c>aud</c> = Graph. Graph's tokens
    /// are for Graph alone (clients must not validate them), so the emulator does not sign it with a published key.
    /// </summary>
    public string IssueToken(string tenant, string clientId, IReadOnlyList<string> roles)
    {
        var now = _time.GetUtcNow();
        var servicePrincipal = GuidFor("sp/" + clientId);
        var payload = new JsonObject
        {
            ["aud"] = "https://graph.microsoft.com",
            ["iss"] = "https://sts.windows.net/" + tenant + "/",
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + TokenLifetime).ToUnixTimeSeconds(),
            ["appid"] = clientId,
            ["idtyp"] = "app",
            ["oid"] = servicePrincipal,
            ["sub"] = servicePrincipal,
            ["tid"] = tenant,
            ["ver"] = "1.0",
        };
        if (roles.Count > 0)
        {
            payload["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)r)]);
        }

        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["kid"] = "emulator-graph" };
        var token = string.Join('.',
            Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString())),
            Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString())),
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(256)));
        lock (_gate)
        {
            _tokens[token] = (now + TokenLifetime, [.. roles], clientId);
        }

        return token;
    }

    public bool IsValidToken(string token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var issued) && _time.GetUtcNow() < issued.Expires;
        }
    }

    /// <summary>The application permissions a token issued here carries (empty for an unknown token).</summary>
    public IReadOnlyList<string> RolesOf(string token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var issued) ? issued.Roles : [];
        }
    }

    /// <summary>The client id (app id) of the app registration a token was issued to; null for an unknown token.</summary>
    public string? AppOf(string token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var issued) ? issued.ClientId : null;
        }
    }

    internal static string GuidFor(string seed)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("entra:" + seed.ToUpperInvariant()));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }

    internal const string GlobalAdministratorRoleId = "62e90394-69f5-4237-9190-012177145e10";
    internal const string UserAdministratorRoleId = "fe930be7-5e62-47db-91af-98c3a49a38b1";

    /// <summary>Adds a user; the first MFA method listed is their default method (as Entra makes the first one registered).</summary>
    private EntraUser AddUser(
        string upn, string displayName, bool isGlobalAdmin, string[] methodTypes, bool synced = false, IReadOnlyList<EntraGroup>? groups = null, (string Title, string Department, EntraUser? Manager)? job = null, string[]? phones = null)
    {
        var hasApp = methodTypes.Contains("microsoftAuthenticatorAuthenticationMethod") || methodTypes.Contains("softwareOathAuthenticationMethod");
        var created = _time.GetUtcNow().AddDays(-300);
        var user = new EntraUser(GuidFor(upn), upn, upn, displayName, isGlobalAdmin)
        {
            TotpSecret = hasApp ? RandomNumberGenerator.GetBytes(20) : null,
            OnPremisesSyncEnabled = synced,
            Groups = groups ?? [],
            JobTitle = job?.Title,
            Department = job?.Department,
            ManagerId = job?.Manager?.Id,
            ManagerName = job?.Manager?.DisplayName,
            BusinessPhones = phones ?? [],
            LastPasswordChange = created.AddDays(200),
        };
        user.AddMethod(new EntraMethod(PasswordMethodId, "passwordAuthenticationMethod", created));
        for (var i = 0; i < methodTypes.Length; i++)
        {
            user.AddMethod(new EntraMethod(GuidFor(upn + "/" + methodTypes[i]), methodTypes[i], created.AddDays(1 + i)), isDefault: i == 0);
        }

        if (isGlobalAdmin)
        {
            _roleGrants.Add(new EntraRoleGrant(GlobalAdministratorRoleId, "Global Administrator", "/", Eligible: false, user.Id));
        }

        _users.Add(user);
        return user;
    }

    private void Seed()
    {
        lock (_gate)
        {
            var grace = AddUser("grace.caller@entra.example", "Grace Caller", false, ["microsoftAuthenticatorAuthenticationMethod", "softwareOathAuthenticationMethod"],
                groups: [new EntraGroup(GuidFor("group/all-staff"), "All Staff", IsAssignableToRole: false)],
                job: ("Account Executive", "Sales", null), phones: ["+1 555 0100 140"]);
            AddUser("heidi.caller@entra.example", "Heidi Caller", false, ["phoneAuthenticationMethod"]);
            AddUser("ivan.admin@entra.example", "Ivan Admin", true, ["microsoftAuthenticatorAuthenticationMethod", "fido2AuthenticationMethod"]);

            // No active role: eligible (PIM) for User Administrator over one administrative unit only.
            var judy = AddUser("judy.eligible@entra.example", "Judy Eligible", false, ["microsoftAuthenticatorAuthenticationMethod"]);
            _roleGrants.Add(new EntraRoleGrant(UserAdministratorRoleId, "User Administrator", "/administrativeUnits/" + GuidFor("au/emea"), Eligible: true, judy.Id));

            // No role of her own: a member of a role-assignable group that holds a custom role.
            var tierZero = new EntraGroup(GuidFor("group/tier-zero"), "Tier Zero Operators", IsAssignableToRole: true);
            AddUser("kim.groupadmin@entra.example", "Kim Groupadmin", false, ["microsoftAuthenticatorAuthenticationMethod"],
                groups: [new EntraGroup(GuidFor("group/all-staff"), "All Staff", IsAssignableToRole: false), tierZero]);
            _roleGrants.Add(new EntraRoleGrant(GuidFor("role/tier-zero-operator"), "Tier Zero Operator (custom)", "/", Eligible: false, tierZero.Id, IsBuiltIn: false));

            // Synced from on-premises AD: no cloud password reset.
            AddUser("mallory.synced@entra.example", "Mallory Synced", false, ["microsoftAuthenticatorAuthenticationMethod", "phoneAuthenticationMethod"], synced: true);

            // Grace's manager, who can approve her recovery (docs/recovery.md) with the Authenticator on their own phone.
            var riley = AddUser("riley.director@entra.example", "Riley Director", false, ["microsoftAuthenticatorAuthenticationMethod"],
                groups: [new EntraGroup(GuidFor("group/all-staff"), "All Staff", IsAssignableToRole: false)],
                job: ("Sales Director", "Sales", null), phones: ["+1 555 0100 141"]);
            grace.ManagerId = riley.Id;
            grace.ManagerName = riley.DisplayName;
        }
    }
}

/// <summary>
/// The Temporary Access Pass method configuration of the authentication methods policy (Graph's
/// <c>temporaryAccessPassAuthenticationMethodConfiguration</c>): enabled or not, and its lifetimes in minutes.
/// </summary>
public sealed record TapPolicySettings
{
    public bool Enabled { get; init; } = true;

    public int DefaultLifetimeInMinutes { get; init; } = 60;

    public int MinimumLifetimeInMinutes { get; init; } = 10;

    public int MaximumLifetimeInMinutes { get; init; } = 43200;
}
