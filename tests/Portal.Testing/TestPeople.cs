using System.Security.Cryptography;
using Portal.IdpEmulator;

namespace Portal.Testing;

/// <summary>
/// People of a test's own at a shared emulator: a caller whose alarm, cool-down or push limit is no other test's
/// concern, an agent whose rate-limit window and sessions are its own. Their names are random letters, so no
/// word of a route or page is a caller's name (the PII scan looks for callers' names on their own).
/// </summary>
public static class TestPeople
{
    /// <summary>A new Okta caller with a TOTP factor (and an Okta Verify push factor when <paramref name="push"/>); returns the login.</summary>
    public static string NewCaller(EmulatorState state, bool push = false, string domain = "demo.example")
    {
        ArgumentNullException.ThrowIfNull(state);
        var (first, last) = (Name(), Name());
        var login = $"{first}.{last}@{domain}".ToLowerInvariant();
        return state.AddCaller(login, login, first, last, push: push).Login;
    }

    /// <summary>
    /// A new Okta caller and a manager of their own (an Okta Verify push factor when <paramref name="managerPush"/>, else
    /// an SMS one, which cannot approve), the report's <c>managerId</c> naming the manager by id, or by login when
    /// <paramref name="byLogin"/>. Both have a fictitious work phone. Returns both logins.
    /// </summary>
    public static (string Report, string Manager) NewManagedCaller(EmulatorState state, bool managerPush = true, bool byLogin = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        var report = NewCaller(state, push: true);
        var (first, last) = (Name(), Name());
        var login = $"{first}.{last}.manager@demo.example".ToLowerInvariant();
        // A manager who cannot approve has only a factor the portal does not accept.
        var manager = state.AddCaller(login, login, first, last, "ACTIVE", managerPush ? ["push", "token:software:totp"] : ["sms"]);

        state.SetManager(report, manager.Login, byLogin);
        state.SetWorkPhone(report, WorkPhone());
        state.SetWorkPhone(manager.Login, WorkPhone());
        return (report, manager.Login);
    }

    /// <summary>A fictitious number of the 555-0100 to 555-0199 range: "+1 555 0100 1xx".</summary>
    public static string WorkPhone() => "+1 555 0100 1" + RandomNumberGenerator.GetInt32(100).ToString("00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A new Okta agent in <paramref name="groups"/>, signed in with MFA; returns the e-mail.</summary>
    public static string NewAgent(EmulatorState state, params string[] groups)
    {
        ArgumentNullException.ThrowIfNull(state);
        var (first, last) = (Name(), Name());
        var email = $"{first}.{last}.agent@demo.example".ToLowerInvariant();
        return state.AddAgent(email, $"{first} {last}", groups).Email;
    }

    /// <summary>A capitalised run of eight random letters: "Qxbrtmwo".</summary>
    private static string Name()
    {
        const string letters = "bcdfghjkmnpqrstvwxz";
        var chars = new char[8];
        chars[0] = 'Q';
        for (var i = 1; i < chars.Length; i++)
        {
            chars[i] = letters[RandomNumberGenerator.GetInt32(letters.Length)];
        }

        return new string(chars);
    }
}
