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
