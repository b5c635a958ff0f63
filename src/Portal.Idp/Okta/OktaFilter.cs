using System.Text;

namespace Portal.Idp.Okta;

/// <summary>Builds Okta search expressions from what an agent typed.</summary>
internal static class OktaFilter
{
    /// <summary>
    /// The value as a double-quoted string literal of Okta's expression language. Without the escaping a
    /// typed <c>x" or profile.login sw "a</c> would widen the search to other users.
    /// </summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var quoted = new StringBuilder(value.Length + 8);
        quoted.Append('"');
        foreach (var c in value)
        {
            if (c is '\\' or '"')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>The search for one exact login or e-mail address, ready to be URL-encoded.</summary>
    public static string LoginOrEmail(string value)
    {
        var quoted = Quote(value);
        return $"profile.login eq {quoted} or profile.email eq {quoted}";
    }
}
