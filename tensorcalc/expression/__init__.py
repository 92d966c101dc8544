"""tensorcalc.expression"""
