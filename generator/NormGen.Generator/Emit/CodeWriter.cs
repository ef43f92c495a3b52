using System;
using System.Text;

namespace NormGen.Generator.Emit;

/// <summary>A string builder that indents: generated code is written line by line with blocks that indent themselves.</summary>
internal sealed class CodeWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _depth;

    /// <summary>Writes one line at the current indentation; an empty call writes a blank line.</summary>
    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (int i = 0; i < _depth; i++)
            {
                _text.Append(IndentUnit);
            }
            _text.Append(line);
        }
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes several lines (a raw string literal's lines) at the current indentation.</summary>
    public CodeWriter Lines(string text)
    {
        foreach (string line in text.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents until the returned scope is disposed.</summary>
    public Scope Block(string header)
    {
        Line(header);
        Line("{");
        _depth++;
        return new Scope(this);
    }

    public override string ToString() => _text.ToString();

    /// <summary>Closes a <see cref="Block"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly CodeWriter _writer;

        public Scope(CodeWriter writer) => _writer = writer;

        public void Dispose()
        {
            _writer._depth--;
            _writer.Line("}");
        }
    }
}
