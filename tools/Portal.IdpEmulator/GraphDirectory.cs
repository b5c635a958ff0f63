using System.Security.Cryptography;
using System.Text;

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

/// <summary>A user of the demo Entra directory, with counters of what the portal did to them.</summary>
public sealed class EntraUser
{
    private readonly List<EntraMethod> _methods = [];
    private int _temporaryAccessPassesIssued;
    private int _sessionsRevoked;
    private int _passwordResets;
    private int _methodsDeleted;
    private bool? _lastForceChange;

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

    public bool AccountEnabled => true;

    /// <summary>Holds the Global Administrator role: Graph refuses to reset its password or issue it a TAP (403).</summary>
    public bool IsGlobalAdmin { get; }

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

    internal void AddMethod(EntraMethod method)
    {
        lock (_methods)
        {
            _methods.Add(method);
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

    internal bool RemoveMethod(string odataType, string methodId)
    {
        lock (_methods)
        {
            if (_methods.RemoveAll(m => m.ODataType == odataType && string.Equals(m.Id, methodId, StringComparison.OrdinalIgnoreCase)) == 0)
            {
                return false;
            }
        }

        Interlocked.Increment(ref _methodsDeleted);
        return true;
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

/// <summary>The demo Entra directory served by the Graph subset: users, their methods, and the app tokens issued.</summary>
internal sealed class GraphDirectory
{
    internal const string PasswordMethodId = "28c10230-6103-485e-b985-444c60001490";
    internal const string TapType = "temporaryAccessPassAuthenticationMethod";
    internal static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(3599);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly List<EntraUser> _users = [];
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

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

    public string IssueToken()
    {
        var token = "eyJ0eXAiOiJKV1QiLCJlbXVsYXRvciI6dHJ1ZX0." + EmulatorState.RandomString(43);
        lock (_gate)
        {
            _tokens[token] = _time.GetUtcNow() + TokenLifetime;
        }

        return token;
    }

    public bool IsValidToken(string token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var expires) && _time.GetUtcNow() < expires;
        }
    }

    internal static string GuidFor(string seed)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("entra:" + seed.ToUpperInvariant()));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }

    private EntraUser AddUser(string upn, string displayName, bool isGlobalAdmin, params string[] methodTypes)
    {
        var hasApp = methodTypes.Contains("microsoftAuthenticatorAuthenticationMethod") || methodTypes.Contains("softwareOathAuthenticationMethod");
        var user = new EntraUser(GuidFor(upn), upn, upn, displayName, isGlobalAdmin) { TotpSecret = hasApp ? RandomNumberGenerator.GetBytes(20) : null };
        var created = _time.GetUtcNow().AddDays(-300);
        user.AddMethod(new EntraMethod(PasswordMethodId, "passwordAuthenticationMethod", created));
        foreach (var type in methodTypes)
        {
            user.AddMethod(new EntraMethod(GuidFor(upn + "/" + type), type, created.AddDays(1)));
        }

        _users.Add(user);
        return user;
    }

    private void Seed()
    {
        lock (_gate)
        {
            AddUser("grace.caller@entra.example", "Grace Caller", false, "microsoftAuthenticatorAuthenticationMethod", "softwareOathAuthenticationMethod");
            AddUser("heidi.caller@entra.example", "Heidi Caller", false, "phoneAuthenticationMethod");
            AddUser("ivan.admin@entra.example", "Ivan Admin", true, "microsoftAuthenticatorAuthenticationMethod", "fido2AuthenticationMethod");
        }
    }
}
