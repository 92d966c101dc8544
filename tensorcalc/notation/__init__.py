"""tensorcalc.notation"""
