using System.Text;

namespace Portal.IdpEmulator;

/// <summary>
/// The subset of Okta's search/filter language the portal needs: <c>attr eq "value"</c> terms joined by
/// <c>or</c>, with <c>\"</c> and <c>\\</c> escapes inside the quoted value. The expression is parsed, never
/// evaluated as text, so that an injected <c>" or …</c> in a value is either matched literally or refused.
/// </summary>
internal sealed class OktaSearchExpression
{
    private static readonly string[] Attributes = ["profile.login", "profile.email", "id", "status"];

    private OktaSearchExpression(IReadOnlyList<(string Attribute, string Value)> terms) => Terms = terms;

    public IReadOnlyList<(string Attribute, string Value)> Terms { get; }

    /// <summary>The terms of <paramref name="text"/>, or null when it is outside the subset.</summary>
    /// <param name="text">The expression.</param>
    /// <param name="attributes">The attributes allowed (matched case-insensitively); null: the user search's.</param>
    public static OktaSearchExpression? Parse(string text, IReadOnlyList<string>? attributes = null)
    {
        attributes ??= Attributes;
        var terms = new List<(string, string)>();
        var i = 0;
        while (true)
        {
            SkipSpaces(text, ref i);
            var attribute = ReadWord(text, ref i);
            var known = attributes.FirstOrDefault(a => string.Equals(a, attribute, StringComparison.OrdinalIgnoreCase));
            if (known is null || !RequireSpace(text, ref i))
            {
                return null;
            }

            if (!string.Equals(ReadWord(text, ref i), "eq", StringComparison.OrdinalIgnoreCase) || !RequireSpace(text, ref i))
            {
                return null;
            }

            var value = ReadQuoted(text, ref i);
            if (value is null)
            {
                return null;
            }

            terms.Add((known, value));
            SkipSpaces(text, ref i);
            if (i == text.Length)
            {
                return new OktaSearchExpression(terms);
            }

            var start = i;
            if (!string.Equals(ReadWord(text, ref i), "or", StringComparison.OrdinalIgnoreCase) || i == start || !RequireSpace(text, ref i))
            {
                return null;
            }
        }
    }

    public bool Matches(DemoCaller caller) => Terms.Any(t => t.Attribute switch
    {
        // Okta compares logins and e-mail addresses case-insensitively.
        "profile.login" => string.Equals(caller.Login, t.Value, StringComparison.OrdinalIgnoreCase),
        "profile.email" => string.Equals(caller.Email, t.Value, StringComparison.OrdinalIgnoreCase),
        "id" => string.Equals(caller.Id, t.Value, StringComparison.Ordinal),
        "status" => string.Equals(caller.Status, t.Value, StringComparison.Ordinal),
        _ => false,
    });

    private static void SkipSpaces(string text, ref int i)
    {
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }
    }

    private static bool RequireSpace(string text, ref int i)
    {
        if (i >= text.Length || text[i] != ' ')
        {
            return false;
        }

        SkipSpaces(text, ref i);
        return true;
    }

    private static string ReadWord(string text, ref int i)
    {
        var start = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '.' || text[i] == '_'))
        {
            i++;
        }

        return text[start..i];
    }

    private static string? ReadQuoted(string text, ref int i)
    {
        if (i >= text.Length || text[i] != '"')
        {
            return null;
        }

        i++;
        var value = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i++];
            if (c == '"')
            {
                return value.ToString();
            }

            if (c == '\\')
            {
                // Only the two escapes Okta defines; anything else is a malformed expression.
                if (i >= text.Length || (text[i] != '"' && text[i] != '\\'))
                {
                    return null;
                }

                value.Append(text[i++]);
                continue;
            }

            value.Append(c);
        }

        return null;
    }
}
